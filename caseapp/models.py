"""Imports every feature's models so the metadata (and Alembic) sees all tables."""
from caseapp.audit.models import AuditEvent  # noqa: F401
from caseapp.auth.models import RecoveryCode, User, user_service_point  # noqa: F401
from caseapp.beneficiaries.models import (  # noqa: F401
    Beneficiary,
    BeneficiaryFlag,
    ConsentRecord,
    Household,
    IdentityDocument,
    PersonKey,
    PersonMerge,
    VulnerabilityFlag,
)
from caseapp.cases.models import (  # noqa: F401
    Assessment, Case, CaseNote, CaseNumberCounter, CaseTally, CaseTransfer, ChangeRecord, FollowUp, PlanAction,
    PlanGoal,
)
from caseapp.referrals.models import (  # noqa: F401
    DirectoryEntry, Notification, Referral, ReferralEvent, ReferralTally, Service)
from caseapp.security.form_tokens import FormSubmission  # noqa: F401
from caseapp.partners.models import Partner  # noqa: F401
from caseapp.places.models import Commune, Province, Region, ServicePoint  # noqa: F401
from caseapp.reports.models import PublishedReport  # noqa: F401
from caseapp.imports.models import ImportBatch, ImportJob, ImportMapping  # noqa: F401
from caseapp.security.rate_limit_models import RateLimitCounter  # noqa: F401
from caseapp.reference_stamp import ReferenceStamp  # noqa: F401
