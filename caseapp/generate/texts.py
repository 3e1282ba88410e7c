"""The free texts caseworkers write (notes, needs, goals, reasons), in French as the teams write them."""
import random

NOTES = {
    "general": (
        "Entretien au bureau avec {name}. Situation stable, documents à compléter.",
        "{name} est passé(e) au bureau pour faire le point sur son dossier.",
        "Appel téléphonique avec {name} : rendez-vous confirmé pour la semaine prochaine.",
        "{name} signale des difficultés à payer le loyer ce mois-ci.",
        "Copie des pièces d'identité de {name} versée au dossier.",
        "Orientation de {name} vers le centre de santé le plus proche.",
    ),
    "follow_up_visit": (
        "Visite à domicile : {name} est installé(e) chez un parent, conditions correctes.",
        "Visite de suivi : le projet de {name} avance, premières ventes réalisées.",
        "Visite de suivi : {name} n'était pas présent(e), nouveau passage prévu.",
        "Visite au domicile de {name} avec l'assistante sociale ; besoins alimentaires signalés.",
    ),
    "legal": (
        "Point juridique : demande de carte de séjour de {name} déposée, récépissé remis.",
        "Rendez-vous avec l'avocat partenaire pour {name} au sujet de son état civil.",
        "Acte de naissance de l'enfant de {name} à transcrire auprès de l'état civil.",
    ),
    "psychosocial": (
        "Séance d'écoute avec {name} : troubles du sommeil depuis le retour, suivi à poursuivre.",
        "{name} exprime un fort sentiment d'échec lié au retour ; orientation vers un psychologue proposée.",
    ),
    "protection": (
        "{name} rapporte des menaces d'un ancien employeur ; plan de sécurité discuté.",
        "Signalement de violences subies par {name} pendant le parcours migratoire ; orientation spécialisée.",
    ),
}
NEEDS = {
    "avrr": ("Souhaite un retour volontaire vers son pays d'origine.", "Besoin de documents de voyage.",
             "Projet de réintégration à préparer avec la famille."),
    "social_rights": ("Pas de couverture médicale.", "Enfants non scolarisés depuis l'arrivée.",
                      "Acte de naissance manquant pour l'inscription à l'état civil.",
                      "Droits CNSS acquis à l'étranger à faire valoir."),
    "employment": ("Cherche un emploi dans le bâtiment.", "Souhaite une formation en cuisine ou en couture.",
                   "Projet de petit commerce (épicerie) à financer.", "Expérience en agriculture, sans diplôme."),
    "psychosocial": ("Stress important lié au retour.", "Isolement social, peu de contacts familiaux.",
                     "Souhaite participer à un groupe de parole."),
}
GOALS = {
    "avrr": ("Organiser le retour volontaire", "Monter le projet de réintégration"),
    "social_rights": ("Obtenir une couverture médicale", "Régulariser l'état civil", "Scolariser les enfants"),
    "employment": ("Trouver un emploi stable", "Lancer une activité génératrice de revenus",
                   "Suivre une formation qualifiante"),
    "psychosocial": ("Retrouver un équilibre psychologique", "Rompre l'isolement"),
}
ACTIONS = ("Constituer le dossier administratif", "Prendre rendez-vous avec le partenaire",
           "Accompagner la personne au rendez-vous", "Rechercher des offres adaptées",
           "Préparer le budget du projet", "Vérifier les pièces justificatives")
ACTION_OWNERS = ("Travailleur social", "La personne elle-même", "Partenaire", "Conseiller emploi")
FOLLOW_UPS = ("Rappeler pour le rendez-vous au partenaire", "Vérifier le dépôt du dossier",
              "Visite à domicile de suivi", "Relancer le partenaire sur la réponse", "Point sur le projet")
REFERRAL_REASONS = {
    "avrr": "Demande d'accompagnement pour le retour volontaire.",
    "social_rights": "Accès aux droits : la personne a besoin d'un appui pour ses démarches.",
    "employment": "La personne cherche un emploi ou une formation ; profil motivé.",
    "psychosocial": "Détresse psychologique signalée lors de l'évaluation.",
}
RETURN_COMMENTS = ("Merci de préciser le besoin et le consentement.", "Service non adapté, voir un autre partenaire.")
DECLINE_COMMENTS = ("Critères d'éligibilité non remplis.", "Plus de places disponibles ce trimestre.",
                    "La personne ne s'est pas présentée au premier rendez-vous.")
REOPEN_REASONS = ("La personne revient avec un nouveau besoin.", "Nouvelle demande après la clôture.")
WITNESSES = ("Amina Tahiri", "Youssef Ouali", "Khadija Naciri", "Omar Bennis", "Sara El Idrissi")
LEGAL_BASIS = "Protection d'un intérêt vital de la personne (loi 09-08, article 4)."


def note_text(rng: random.Random, kind: str, name: str) -> str:
    """A note of this kind about the person called `name`."""
    return rng.choice(NOTES[kind]).format(name=name)
