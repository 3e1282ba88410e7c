"""Name tables of the synthetic population: Moroccan, West-African and Syrian/Sudanese given and family names.

Each entry is (Latin spellings, most common first; Arabic script or ""); each table lists the most frequent names
first (names.py weights them by a Zipf law).
"""


def _names(text_block: str) -> list[tuple[tuple[str, ...], str]]:
    rows = []
    for line in text_block.strip().splitlines():
        latin, _, arabic = line.partition("|")
        rows.append((tuple(s.strip() for s in latin.split(",")), arabic.strip()))
    return rows


ARAB_MALE = _names("""
Mohamed, Mohammed, Muhammad, Mohamad, Mohammad | محمد
Ahmed, Ahmad, Ahmet | أحمد
Youssef, Youssouf, Yousef, Yusuf | يوسف
Abdelkader, Abd el-Kader, Abdelkadir, Abdulkader | عبد القادر
Hassan, Hasan | حسن
Omar, Umar, Omer | عمر
Ali | علي
Rachid, Rashid, Rachide | رشيد
Said, Saïd, Saeed | سعيد
Khalid, Khaled | خالد
Mustapha, Mustafa, Moustapha | مصطفى
Abdellah, Abdallah, Abdullah | عبد الله
Hicham, Hisham | هشام
Karim, Kareem | كريم
Brahim, Ibrahim | إبراهيم
Hamza | حمزة
Mahmoud, Mahmud | محمود
Ayoub, Ayub, Ayyoub | أيوب
Mehdi, Mahdi | مهدي
Noureddine, Nour Eddine, Nour-Eddine, Nureddin | نور الدين
Driss, Idriss, Idris | إدريس
Abderrahim, Abdel Rahim, Abdurrahim | عبد الرحيم
Jamal, Djamal, Gamal | جمال
Redouane, Radwan, Ridouane | رضوان
Soufiane, Sofiane, Sufyan | سفيان
Zakaria, Zakariya, Zakariae | زكرياء
Othmane, Osman, Outhmane, Uthman | عثمان
Tarik, Tariq, Tarek | طارق
Younes, Yunus, Younis | يونس
Bilal, Bilel | بلال
Adil, Adel | عادل
Nabil | نبيل
Anas | أنس
Amine, Amin | أمين
Hussein, Houcine, Hossein, Lhoussaine | حسين
Lahcen, Lahsen | لحسن
Yassine, Yasin, Yassin | ياسين
Ilyas, Ilias, Elias | إلياس
Fadi | فادي
Bashar, Bachar | بشار
Ammar, Amar | عمار
Yasser, Yasir | ياسر
Abdelaziz, Abd el-Aziz, Abdulaziz | عبد العزيز
Hamid, Hamide | حميد
""")
ARAB_FEMALE = _names("""
Fatima, Fatma, Fatimah, Fatema | فاطمة
Khadija, Khadidja, Khadijah | خديجة
Aicha, Aïcha, Aisha, Aïsha | عائشة
Meryem, Maryam, Mariam | مريم
Naima, Naïma, Naeema | نعيمة
Zineb, Zaynab, Zeinab | زينب
Amina, Aminah | أمينة
Salma | سلمى
Hanane, Hanan | حنان
Samira, Sameera | سميرة
Nadia, Nadya | نادية
Latifa, Latefa | لطيفة
Malika, Malikah | مليكة
Souad, Suad | سعاد
Hafsa, Hafsah | حفصة
Imane, Iman, Imen | إيمان
Asmae, Asmaa, Asma | أسماء
Sanaa, Sana | سناء
Karima, Kareema | كريمة
Hayat | حياة
Loubna, Lubna | لبنى
Rachida, Rashida | رشيدة
Saida, Saïda | سعيدة
Ghizlane, Ghizlan | غزلان
Siham, Sihame | سهام
Houda, Huda | هدى
Noura, Nora, Nour | نورة
Rania | رانيا
Rasha, Racha | رشا
Lina | لينا
Reem, Rim | ريم
Hiba, Heba | هبة
Kawtar, Kaoutar, Kawthar | كوثر
Yasmine, Yasmina, Jasmine | ياسمين
Ikram | إكرام
Wafae, Wafaa, Wafa | وفاء
""")
AFRICAN_MALE = _names("""
Mamadou, Mamadu, Mahamadou
Moussa, Musa, Mousa
Ibrahima, Ibrahim
Abdoulaye, Abdulai, Abdoulay
Ousmane, Usman, Ousman
Amadou, Amadu, Ahmadou
Cheikh, Sheikh, Cheick
Aliou, Alioune, Aliu
Boubacar, Boubakar, Bubacarr
Seydou, Seidou
Lamine, Lamin
Modou, Modu
Issa, Issah
Bakary, Bakari
Souleymane, Sulayman, Souleyman
Koffi, Kofi
Kouassi, Kwasi
Yao
Serge
Jean, Jean-Baptiste
Paul
Emmanuel
Adama
Sekou, Sékou
Idrissa, Idrisa
Oumar, Umaru
Samba
Daouda, Dawda
Alpha
Kwame
""")
AFRICAN_FEMALE = _names("""
Aminata, Aminatou
Fatoumata, Fatumata, Fatoumatta
Mariama, Mariam, Mariame
Awa
Aissatou, Aïssatou, Aisatou
Kadiatou, Kadiatu, Kadidiatou
Adama
Oumou, Umu
Hawa, Awa
Ramata
Aya
Bintou, Bintu
Marie, Mary
Grace
Djeneba, Jeneba
Salimata
Mariatou
Assetou
Ndeye, N'Deye
Rokia, Rokiatou
Binta
Fanta
Nafissatou, Nafisatou
Christelle
Esther
""")
AFRICAN_FAMILY = _names("""
Diallo, Jallow, Djalo
Ndiaye, N'Diaye, Ndiay
Traoré, Traore
Camara, Kamara
Coulibaly, Kulibali, Koulibaly
Diop, Diope
Barry, Bari
Sow, Sowe
Bah, Ba
Keita, Keïta
Konaté, Konate
Touré, Toure, Ture
Cissé, Cisse, Sisse
Kouassi, Kwasi
Koné, Kone
Sylla, Sila
Diarra, Jarra
Bamba
Sangaré, Sangare
Doumbia, Dumbia
Fofana, Fofanah
Kaba
Condé, Conde
Soumah, Sumah
Bangoura, Bangura
Sacko, Sako
Dembélé, Dembele
Konan
Kouamé, Kouame
Yao
Ouedraogo, Ouédraogo, Wedraogo
Sawadogo
Kaboré, Kabore
Mbarga
Nguema
Etoa
Mensah
Owusu
Balde, Baldé
Faye, Fay
Gueye, Guèye
Seck, Sek
Fall, Fal
Mbaye
Thiam, Tiam
Sarr, Sar
Kanté, Kante
Sidibé, Sidibe
Sissoko, Sisoko
Dramé, Drame
Tall, Tal
Kouyaté, Kouyate
Diakité, Diakite
Savané
Diabaté, Diabate
Ndour
Niang
Samaké
Togola
Berthe
""")
# Arabic family names: a few common ones as written, then root + ending, with particles.
ARAB_FAMILY_NAMED = _names("""
El Amrani, Amrani, El-Amrani, Elamrani | العمراني
Alaoui, El Alaoui, Elalaoui | العلوي
Idrissi, El Idrissi, El-Idrissi | الإدريسي
Benali, Ben Ali, Ben-Ali | بنعلي
Tazi, Ettazi | التازي
Bennani, Benani | بناني
Berrada, Berada | برادة
Chraibi, Cheraibi, Chraïbi | الشرايبي
Lahlou, Lahlu | لحلو
Aït Ahmed, Ait Ahmed, Ait-Ahmed | آيت أحمد
Ouali, Wali | والي
Bouzid, Bou Zid | بوزيد
El Fassi, Fassi, Elfassi | الفاسي
Benjelloun, Ben Jelloun | بنجلون
Haddad, Al-Haddad, Alhaddad | الحداد
Khalil, Khelil | خليل
Hamwi, Al-Hamwi, Hamoui | الحموي
Al-Masri, Masri, El Masri | المصري
Al-Halabi, Halabi | الحلبي
Darwish, Darouich, Darwiche | درويش
Al-Shami, Shami, Chami | الشامي
Kurdi, Al-Kurdi | الكردي
Najjar, Al-Najjar, Nejjar | النجار
Sabbagh, Al-Sabbagh | الصباغ
Hamdan, Hamdane | حمدان
Attar, Al-Attar | العطار
Jaber, Jabir | جابر
Saleh, Salah, Salih | صالح
Othman, Osman, Outhmane | عثمان
Hourani, Al-Hourani | الحوراني
Homsi, Al-Homsi | الحمصي
Khatib, Al-Khatib, El Khatib | الخطيب
Ibrahim, Brahim | إبراهيم
Mansour, Mansur | منصور
Qassem, Kassem, Qasim | قاسم
Belhaj, Bel Haj, Belhadj | بلحاج
Bakkali, El Bakkali, Bakali | البقالي
Ouazzani, El Ouazzani, Wazzani | الوزاني
Naciri, Nasiri, Nassiri | الناصري
Kabbaj, Kabaj | قباج
""")
ROOTS = [line.split("|") for line in """
Amr|عمر Mansour|منصور Hamd|حمد Rahmoun|رحمون Zeroual|زروال Moussa|موس Filal|فيلال Boukhar|بخار
Tahir|طاهر Zian|زيان Kettan|كتان Sahra|صحرا Hassan|حسن Sliman|سليمان Othman|عثمان Karim|كريم Yousf|يوسف
Azzouz|عزوز Touat|توات Meknass|مكناس Sebt|سبت Rif|ريف Cherif|شريف Salh|صالح Fadl|فضل Ghazal|غزال
Marrakch|مراكش Doukkal|دكال Rbat|رباط Oujd|وجد Hajj|حاج Amin|أمين Naim|نعيم Jamal|جمال Kamal|كمال
Bachir|بشير Rachid|رشيد Hilal|هلال Habib|حبيب Ayad|عياد Mokhtar|مختار Nour|نور Badr|بدر Sabr|صبر
Hamid|حميد Saad|سعد Zahr|زهر Kadir|قادر Jabr|جبر Majd|مجد Tlemc|تلمس Harb|حرب Ghoul|غول Madan|مدن
Sanhaj|صنهاج Shaou|شاو Zemmour|زمور Tadl|تادل Draou|دراو Zagour|زاكور Tafilal|تافيلال
""".split()]
ENDINGS = (("{}i", "{}ي"), ("El {}i", "ال{}ي"), ("{}ani", "{}اني"), ("El {}ani", "ال{}اني"), ("{}aoui", "{}اوي"),
           ("Ben {}", "بن {}"), ("Aït {}", "آيت {}"), ("Ould {}", "ولد {}"), ("Bou{}", "بو{}"))


def _root_family_names() -> list[tuple[tuple[str, ...], str]]:
    names = []
    for latin_root, arabic_root in ROOTS:
        for latin, arabic in ENDINGS:
            main = latin.format(latin_root)
            spellings = [main]
            if main.startswith("El "):
                spellings += [main.replace("El ", "El-"), main[3:], main.replace("El ", "El").capitalize()]
            if main.startswith("Ben "):
                spellings += ["Ben" + latin_root.lower(), main.replace(" ", "-")]
            if main.startswith("Aït "):
                spellings += [main.replace("Aït ", "Ait "), main.replace("Aït ", "Ait-")]
            names.append((tuple(dict.fromkeys(spellings)), arabic.format(arabic_root)))
    return names


ARAB_FAMILY = ARAB_FAMILY_NAMED + _root_family_names()
ORIGINS = (  # nationality, share of the population, given names (M, F), family names, Arabic spelling on file
    ("MAR", 0.55, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.6),
    ("SYR", 0.07, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.6),
    ("SDN", 0.03, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.5),
    ("SEN", 0.09, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("GIN", 0.08, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("MLI", 0.07, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("CIV", 0.06, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("CMR", 0.05, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
)
