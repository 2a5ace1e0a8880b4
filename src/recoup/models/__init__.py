"""All SQLAlchemy models, one module per aggregate."""

from recoup.models.account import Account, AccountStatus, Collector
from recoup.models.arrangement import (
    OPEN_STATUSES,
    Arrangement,
    ArrangementInstalment,
    ArrangementKind,
    ArrangementStatus,
    BillAdjustment,
    OneTimeCode,
    PayLinkRevocation,
    PaymentIntent,
)
from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead, DataAccess
from recoup.models.autopay import (
    OPEN_MANDATE_STATES,
    AutopayCollection,
    AutopayMandate,
    CollectionStatus,
    MandateState,
)
from recoup.models.base import Model
from recoup.models.bill import Bill, Component
from recoup.models.case import Case, CaseKind, CaseStatus, SurveyResponse
from recoup.models.contact import (
    ContactEvent,
    ContactMessage,
    ContactPlan,
    ContactPreference,
    ContactStatus,
    InboundMessage,
    OptOut,
    ProviderPacing,
)
from recoup.models.conversation import Conversation, ConversationState, ConversationTurn
from recoup.models.customer import (
    ContactSource,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    PhoneType,
)
from recoup.models.delinquency import (
    AccountDelinquency,
    DelinquencyEvent,
    DelinquencyPause,
    DelinquencyRun,
    PauseKind,
)
from recoup.models.education import Article, ArticleRead, ArticleStatus, ArticleVersion
from recoup.models.http import IdempotencyRecord, WebhookReceipt
from recoup.models.identity import (
    ApiKey,
    PasswordCode,
    StaffProposal,
    StaffSession,
    StaffUser,
)
from recoup.models.keys import EncryptionKey, KeyPurpose, KeyState
from recoup.models.payment import Allocation, Payment, PaymentSource
from recoup.models.privacy import Consent, ErasureRequest, ErasureStatus
from recoup.models.product import Product, ProductKind
from recoup.models.quality import QaReview, QaSample
from recoup.models.risk import AccountScore, RiskDrift, RiskModel
from recoup.models.strategy import (
    AccountNote,
    AgentTask,
    AgentTaskEvent,
    DailyRun,
    LearningArm,
    PolicyVersion,
    StrategyDecision,
)
from recoup.models.template import TemplateVersion

__all__ = [
    "OPEN_MANDATE_STATES",
    "OPEN_STATUSES",
    "Account",
    "AccountDelinquency",
    "AccountNote",
    "AccountScore",
    "AccountStatus",
    "AgentTask",
    "AgentTaskEvent",
    "Allocation",
    "ApiKey",
    "Arrangement",
    "ArrangementInstalment",
    "ArrangementKind",
    "ArrangementStatus",
    "Article",
    "ArticleRead",
    "ArticleStatus",
    "ArticleVersion",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "AutopayCollection",
    "AutopayMandate",
    "Bill",
    "BillAdjustment",
    "Case",
    "CaseKind",
    "CaseStatus",
    "CollectionStatus",
    "Collector",
    "Component",
    "Consent",
    "ContactEvent",
    "ContactMessage",
    "ContactPlan",
    "ContactPreference",
    "ContactSource",
    "ContactStatus",
    "Conversation",
    "ConversationState",
    "ConversationTurn",
    "Customer",
    "CustomerAddress",
    "CustomerEmail",
    "CustomerPhone",
    "DailyRun",
    "DataAccess",
    "DelinquencyEvent",
    "DelinquencyPause",
    "DelinquencyRun",
    "EncryptionKey",
    "ErasureRequest",
    "ErasureStatus",
    "IdempotencyRecord",
    "InboundMessage",
    "KeyPurpose",
    "KeyState",
    "LearningArm",
    "MandateState",
    "Model",
    "OneTimeCode",
    "OptOut",
    "PasswordCode",
    "PauseKind",
    "PayLinkRevocation",
    "Payment",
    "PaymentIntent",
    "PaymentSource",
    "PhoneType",
    "PolicyVersion",
    "Product",
    "ProductKind",
    "ProviderPacing",
    "QaReview",
    "QaSample",
    "RiskDrift",
    "RiskModel",
    "StaffProposal",
    "StaffSession",
    "StaffUser",
    "StrategyDecision",
    "SurveyResponse",
    "TemplateVersion",
    "WebhookReceipt",
]
