"""The protocol, read once from `benchmark/protocol.toml` into frozen dataclasses.

Every number of the protocol (docs/protocol.md) lives in that file; this module only gives it
types. Each table of the file becomes one dataclass below, and a key that is
missing, unknown or of the wrong type is reported with its dotted name, so a
typo in the protocol can never be silently ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privbench.errors import ProtocolError
from privbench.paths import repo_root


@dataclass(frozen=True)
class Labels:
    classes: tuple[str, ...]
    genders: tuple[str, ...]


@dataclass(frozen=True)
class DerivedLabels:
    """Section 1, corpora without dimensional ratings: each emotion category's classes.

    Values are class names of [labels].classes. The optional intensity shift moves a
    category's activation class up or down (clipped to low..high) by the acted
    intensity level, for corpora that have one (CREMA-D's LO/MD/HI).
    """

    activation: dict[str, str]
    valence: dict[str, str]
    intensity_activation_shift: dict[str, int] | None = None


@dataclass(frozen=True)
class CorpusRules:
    """Section 1: how one corpus' ratings become classes, and which utterances count."""

    display_name: str
    scale: tuple[float | str, float | str]  # "min"/"max": the data's own extremes
    edges: tuple[float, float]  # low = [scale_min, e0], mid = (e0, e1], high = (e1, scale_max]
    modalities: tuple[str, ...]
    folds: str  # "session" (IEMOCAP) or "greedy" (section 3)
    require_known_gender: bool = False
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    derived_labels: DerivedLabels | None = None  # set for corpora whose labels are categories, not ratings


@dataclass(frozen=True)
class AudioFeatures:
    sample_rate_hz: int
    num_mel_bins: int
    frame_length_ms: float
    frame_shift_ms: float
    window: str
    dither: float
    preemphasis: float
    remove_dc_offset: bool
    snip_edges: bool
    low_freq_hz: float
    high_freq_hz: float
    round_to_power_of_two: bool
    use_power: bool
    normalisation: str
    z_epsilon: float


@dataclass(frozen=True)
class TextFeatures:
    dim: int
    lowercase: bool
    token_pattern: str
    lookup_order: tuple[str, ...]
    unknown_token: str
    empty_transcript: str


@dataclass(frozen=True)
class Features:
    audio: AudioFeatures
    text: TextFeatures


@dataclass(frozen=True)
class Folds:
    count: int
    validation_offset: int


@dataclass(frozen=True)
class Setups:
    tasks: tuple[str, ...]
    baselines: tuple[str, ...]
    modalities: dict[str, tuple[str, ...]]  # modality -> the feature streams its batches carry


@dataclass(frozen=True)
class ModelConfig:
    conv_layers: int
    conv_kernel_width: int
    conv_kernels: int
    gru_layers: int
    gru_width: int
    dense_layers: int
    dense_width: int
    # "lambda" is a Python keyword; the file's key is mapped to this name.
    lambda_: float


@dataclass(frozen=True)
class ModelGrid:
    conv_layers: tuple[int, ...]
    conv_kernel_width: tuple[int, ...]
    conv_kernels: tuple[int, ...]
    gru_layers: tuple[int, ...]
    gru_width: tuple[int, ...]
    dense_layers: tuple[int, ...]
    dense_width: tuple[int, ...]
    lambda_: tuple[float, ...]


@dataclass(frozen=True)
class Training:
    optimizer: str
    learning_rate: float
    rho: float
    epsilon: float
    batch_size: int
    early_stopping_patience: int
    class_weights: str
    gender_chance_tolerance: float  # two-sided: |UAR - 0.5| <= this
    configuration_draw_seed: int
    default_config: ModelConfig
    grid: ModelGrid


@dataclass(frozen=True)
class Attacker:
    hidden_layers: tuple[int, ...]
    hidden_units: tuple[int, ...]
    optimizer: str
    learning_rate: float
    max_epochs: int
    early_stopping_patience: int
    loss: str
    batch_size: int
    families: tuple[str, ...]
    knn_neighbours: tuple[int, ...]


@dataclass(frozen=True)
class Membership:
    fold_roles: tuple[str, ...]  # per fold ordered from the rotation's: "train", "attacker" (s4), "score" (s5)
    selected_speaker_fraction: float
    added_utterance_fraction: float
    encoder_validation_fraction: float
    heldout_utterance_fraction: float
    speaker_threshold: float


@dataclass(frozen=True)
class Identity:
    """Section 6, ID: identity linkability on h(test), per rotation."""

    enrolment_fraction: float  # of each test speaker's utterances, seeded: the rest are trials
    families: tuple[str, ...]  # "ignorant" (cosine on standardised h), "informed" (LDA on h(D1), then cosine)
    min_speakers: int  # a rotation whose test fold holds fewer speakers is skipped
    tpr_at_fpr: float  # ID-TPR@1%FPR's false-positive rate


@dataclass(frozen=True)
class MembershipLR:
    """Section 6, MI-LR: speaker membership calibrated with the rotations' own 'out' models."""

    surfaces: tuple[str, ...]  # "h" (similarity to the attacker's training representations), "loss" (the emotion model's)
    neighbours: int  # the h surface: how many nearest training representations an utterance is compared with
    tpr_at_fpr: tuple[float, ...]  # MI-LR-TPR at these false-positive rates (each reported where 1/rate non-members exist)


@dataclass(frozen=True)
class Controls:
    """Section 6: the controls' names and what each must show (results.controls checks a record)."""

    names: tuple[str, ...]
    noise_chance_tolerance: float
    noise_min_identity_eer: float
    noise_max_link_over_chance: float
    voice_max_identity_eer: float
    voice_min_leakage: float
    voice_min_speakers: int
    memoriser_min_membership_lr_auc: float


@dataclass(frozen=True)
class Metrics:
    inversion_margin: float


@dataclass(frozen=True)
class Significance:
    test: str
    correction: str
    alpha: float
    min_pairs: int
    reference_model: str
    table_references: dict[str, str]  # table id -> its reference model, where not reference_model
    equivalence_margin: float
    equivalence_confidence: float

    def reference_for(self, table: str | None = None) -> str:
        return self.table_references.get(table or "", self.reference_model)


@dataclass(frozen=True)
class McAdams:
    coefficient: float
    lpc_order: int
    window_ms: float
    shift_ms: float


@dataclass(frozen=True)
class Anonymisation:
    mcadams: McAdams


@dataclass(frozen=True)
class Budget:
    rotations: int
    seeds: int
    max_epochs: int
    configurations: str  # "default", "default+random" or "grid"
    random_draws: int
    membership_rotations: int

    @property
    def searches_configurations(self) -> bool:
        """Whether a baseline's record is a selected configuration rather than the default one."""
        return self.configurations != "default"


@dataclass(frozen=True)
class SyntheticSpeakers:
    pitch_mean: dict[str, float]
    pitch_sd: float
    utterance_pitch_sd: float  # each utterance's own pitch offset, unrelated to emotion
    range_min: float
    range_max: float
    rate_mean: float
    rate_sd: float
    activation_shift: dict[str, float]
    valence_shift: dict[str, float]
    speaker_latent_sd: float
    favourite_word_probability: float


@dataclass(frozen=True)
class SyntheticEmotion:
    latent_mean: float
    latent_sd: float
    rate_per_activation: float
    volume_base: float
    volume_per_activation: float
    pitch_per_activation: float
    pitch_per_valence: float
    range_per_activation: float
    word_valence_slope: float


@dataclass(frozen=True)
class SyntheticRaters:
    count: int
    scale: tuple[int, int]
    bias_sd: float
    noise_sd: float


@dataclass(frozen=True)
class SyntheticWord2Vec:
    vector_size: int
    window: int
    min_count: int
    epochs: int
    pool_sentences: int


@dataclass(frozen=True)
class Synthetic:
    seed: int
    speakers_female: int
    speakers_male: int
    utterances_per_speaker: int
    min_duration_s: float
    max_duration_s: float
    silence_s: tuple[float, float]  # leading and trailing silence around the speech, each drawn uniformly
    language: str
    variants_female: tuple[str, ...]
    variants_male: tuple[str, ...]
    speaker: SyntheticSpeakers
    emotion: SyntheticEmotion
    raters: SyntheticRaters
    word2vec: SyntheticWord2Vec


@dataclass(frozen=True)
class ProtocolInfo:
    version: str
    reference: str


@dataclass(frozen=True)
class Protocol:
    protocol: ProtocolInfo
    labels: Labels
    corpora: dict[str, CorpusRules]
    features: Features
    folds: Folds
    setups: Setups
    training: Training
    attacker: Attacker
    membership: Membership
    identity: Identity
    membership_lr: MembershipLR
    controls: Controls
    metrics: Metrics
    significance: Significance
    anonymisation: Anonymisation
    budgets: dict[str, Budget]
    synthetic: Synthetic
    path: Path = Path()
    sha256: str = ""

    @property
    def version(self) -> str:
        return self.protocol.version

    def sections_sha256(self, names: tuple[str, ...]) -> str:
        """sha256 of some tables of the protocol: what a cached artifact depends on. Training keys
        hash the tables training reads, scoring keys those scoring reads, so a change to an attack's
        settings (or the version number) re-scores without retraining."""
        from privbench.storage import canonical_json, sha256_bytes

        values = {name: dataclasses.asdict(getattr(self, name)) if dataclasses.is_dataclass(getattr(self, name))
                  else {key: dataclasses.asdict(value) for key, value in getattr(self, name).items()} for name in names}
        return sha256_bytes(canonical_json(values).encode())

    def corpus(self, name: str) -> CorpusRules:
        try:
            return self.corpora[name]
        except KeyError:
            raise ProtocolError(f"{self.path} has no [corpora.{name}] table") from None

    def budget(self, name: str) -> Budget:
        try:
            return self.budgets[name]
        except KeyError:
            known = ", ".join(self.budgets)
            raise ProtocolError(f"unknown budget {name!r}: choose one of {known}") from None


def _field_key(name: str) -> str:
    return name[:-1] if name.endswith("_") else name


def _convert(value: Any, kind: Any, where: str) -> Any:
    """Turn one TOML value into `kind`, or say which key is wrong."""
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ProtocolError(f"protocol.toml: {where} must be a table")
        return _build(kind, value, where)
    if origin is dict:
        _, value_kind = typing.get_args(kind)
        if not isinstance(value, dict):
            raise ProtocolError(f"protocol.toml: {where} must be a table")
        return {key: _convert(item, value_kind, f"{where}.{key}") for key, item in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError(f"protocol.toml: {where} must be a list")
        args = typing.get_args(kind)
        item_kinds = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(item_kinds) != len(value):
            raise ProtocolError(f"protocol.toml: {where} must have {len(item_kinds)} entries")
        return tuple(_convert(item, item_kind, f"{where}[{i}]") for i, (item, item_kind) in enumerate(zip(value, item_kinds)))
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _convert(value, option, where)
            except ProtocolError:
                continue
        raise ProtocolError(f"protocol.toml: {where} = {value!r} has the wrong type ({kind})")
    if kind is type(None):
        if value is not None:
            raise ProtocolError(f"protocol.toml: {where} must be absent")
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in (int, float, str, bool) and type(value) is kind:
        return value
    raise ProtocolError(f"protocol.toml: {where} = {value!r} should be of type {kind.__name__}")


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("path", "sha256")}
    known_keys = {_field_key(name) for name in fields}
    unknown = sorted(set(table) - known_keys)
    if unknown:
        raise ProtocolError(f"protocol.toml: unknown key {where + '.' if where else ''}{unknown[0]}")
    values = {}
    for name, field in fields.items():
        key = _field_key(name)
        dotted = f"{where}.{key}" if where else key
        if key in table:
            values[name] = _convert(table[key], hints[name], dotted)
        elif field.default is dataclasses.MISSING:
            raise ProtocolError(f"protocol.toml: missing key {dotted}")
    return cls(**values)


def _check_derived_labels(protocol: Protocol) -> None:
    """A derived-label table must name known classes and cover the same categories twice."""
    for name, rules in protocol.corpora.items():
        derived = rules.derived_labels
        if derived is None:
            continue
        where = f"protocol.toml: corpora.{name}.derived_labels"
        if set(derived.activation) != set(derived.valence):
            raise ProtocolError(f"{where}: activation and valence must map the same categories")
        for task, mapping in (("activation", derived.activation), ("valence", derived.valence)):
            for category, label in mapping.items():
                if label not in protocol.labels.classes:
                    raise ProtocolError(f"{where}.{task}.{category} = {label!r}; use one of {', '.join(protocol.labels.classes)}")


def _check_roles(protocol: Protocol) -> None:
    """Membership fold roles: one per fold, D1 = "train", exactly one s4 ("attacker") and one s5 ("score");
    modalities name known streams."""
    roles = protocol.membership.fold_roles
    if (len(roles) != protocol.folds.count or roles.count("attacker") != 1 or roles.count("score") != 1
            or set(roles) - {"train", "attacker", "score"}):
        raise ProtocolError(f"protocol.toml: membership.fold_roles = {list(roles)} must give each of the {protocol.folds.count} "
                            "folds a role: \"train\", and exactly one \"attacker\" (s4) and one \"score\" (s5)")
    for modality, streams in protocol.setups.modalities.items():
        unknown = sorted(set(streams) - {"audio", "text"})
        if not streams or unknown:
            raise ProtocolError(f"protocol.toml: setups.modalities.{modality} = {list(streams)}: streams are audio and text")


def load_protocol(path: Path) -> Protocol:
    """Read and check a protocol file; the result records the file's sha256."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ProtocolError(f"cannot read the protocol file {path}: {error.strerror}") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProtocolError(f"{path} is not valid TOML: {error}") from None
    protocol = _build(Protocol, table, "")
    _check_derived_labels(protocol)
    _check_roles(protocol)
    return dataclasses.replace(protocol, path=path, sha256=hashlib.sha256(raw).hexdigest())


@functools.cache
def _cached_protocol(path: Path) -> Protocol:
    return load_protocol(path)


def get_protocol() -> Protocol:
    """The protocol of the current privbench clone (read once per process)."""
    return _cached_protocol(repo_root() / "benchmark" / "protocol.toml")
