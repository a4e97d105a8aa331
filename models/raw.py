"""The ``raw`` schema: canonical, English, SI-unit landing tables, one per clinical concept.

Every centre's delivery is mapped onto these tables, whatever its format or language.
Each row carries its provenance (which delivery, file and source row it came from) and
its version history: deliveries are full snapshots, so a changed record closes its
current version (``valid_to``) and adds a new one, and a record missing from the newest
snapshot is flagged ``is_withdrawn`` rather than deleted.

Column ``info`` tells the loader how a canonical field relates to its source:
``source`` names the column that keeps the centre's original code or text,
``source_value``/``source_unit`` the columns that keep a measurement as delivered, and
``unit`` the canonical unit. ``__table_args__`` info ``natural_key`` lists the fields
that identify one record within a centre across nights.
"""

from datetime import date, datetime
from decimal import Decimal

from duckdb_sqlalchemy.datatypes import UHugeInteger
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Integer,
    Numeric,
    Sequence,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from models.base import Base

SCHEMA = "raw"


def coded(source_column: str, vocabulary: str) -> dict:
    """Column info of a field mapped through a code list; the source text is kept.

    ``vocabulary`` names the canonical code list (a dbt seed in ``dbt_project/seeds``,
    its first column holds the codes) that every decoded value must belong to.
    """
    return {"source": source_column, "vocabulary": vocabulary}


def measured(unit: str | None, quantity: str) -> dict:
    """Column info of a measurement converted to ``unit``; value and unit as sent are kept.

    ``unit`` None: the canonical unit depends on what is measured (labs) and is written
    to the row's own ``unit`` column.
    """
    return {
        "unit": unit,
        "quantity": quantity,
        "source_value": f"{quantity}_source_value",
        "source_unit": f"{quantity}_source_unit",
    }


class RawRecord(Base):
    """Provenance and version-history columns shared by every raw table."""

    __abstract__ = True

    @declared_attr
    def raw_id(cls) -> Mapped[int]:  # noqa: N805
        seq = Sequence(f"{cls.__tablename__}_raw_id_seq", schema=SCHEMA)
        return mapped_column(BigInteger, seq, server_default=seq.next_value(), primary_key=True)

    record_key: Mapped[str] = mapped_column(String, nullable=False)
    row_hash: Mapped[str] = mapped_column(String, nullable=False)
    content_fingerprint: Mapped[int | None] = mapped_column(UHugeInteger)  # etl.fingerprint
    load_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    site: Mapped[str] = mapped_column(String, nullable=False)
    source_file: Mapped[str] = mapped_column(String, nullable=False)
    source_file_sha256: Mapped[str] = mapped_column(String, nullable=False)
    source_row: Mapped[int] = mapped_column(Integer, nullable=False)
    extracted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)
    is_withdrawn: Mapped[bool] = mapped_column(Boolean, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    patient_pseudonym: Mapped[str] = mapped_column(String, nullable=False)
    dates_imputed: Mapped[str | None] = mapped_column(String)


class Patient(RawRecord):
    """Patient facts at registration: demography, tumour and metastasis sites."""

    __tablename__ = "patient"
    __table_args__ = {"schema": SCHEMA, "info": {"natural_key": ["patient_pseudonym"]}}

    sex: Mapped[str | None] = mapped_column(String, info=coded("sex_source", "sexes"))
    sex_source: Mapped[str | None] = mapped_column(String)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    diagnosis_date: Mapped[date | None] = mapped_column(Date)
    primary_origin: Mapped[str | None] = mapped_column(
        String, info=coded("primary_origin_source", "primary_origins")
    )
    primary_origin_source: Mapped[str | None] = mapped_column(String)
    who_grade: Mapped[str | None] = mapped_column(
        String, info=coded("who_grade_source", "who_grades")
    )
    who_grade_source: Mapped[str | None] = mapped_column(String)
    ki67_percent: Mapped[float | None] = mapped_column(
        Double, info={"source": "ki67_source", "percentage": True})
    ki67_qualifier: Mapped[str | None] = mapped_column(String)
    ki67_source: Mapped[str | None] = mapped_column(String)
    krenning_score: Mapped[int | None] = mapped_column(SmallInteger)
    bone_metastases: Mapped[bool | None] = mapped_column(
        Boolean, info={"source": "bone_metastases_source"}
    )
    bone_metastases_source: Mapped[str | None] = mapped_column(String)
    liver_metastases: Mapped[bool | None] = mapped_column(
        Boolean, info={"source": "liver_metastases_source"}
    )
    liver_metastases_source: Mapped[str | None] = mapped_column(String)
    lymph_node_metastases: Mapped[bool | None] = mapped_column(Boolean)
    lung_metastases: Mapped[bool | None] = mapped_column(Boolean)
    tumour_burden: Mapped[str | None] = mapped_column(
        String, info=coded("tumour_burden_source", "tumour_burdens")
    )
    tumour_burden_source: Mapped[str | None] = mapped_column(String)


class TreatmentCycle(RawRecord):
    """One administration of 177Lu-octreotate, activity in GBq."""

    __tablename__ = "treatment_cycle"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "cycle_date"]},
    }

    cycle_no: Mapped[int | None] = mapped_column(SmallInteger)
    cycle_date: Mapped[date] = mapped_column(Date, nullable=False)
    administered_activity_gbq: Mapped[Decimal | None] = mapped_column(
        Numeric(18, 9), info=measured("GBq", "activity")
    )
    activity_source_value: Mapped[str | None] = mapped_column(String)
    activity_source_unit: Mapped[str | None] = mapped_column(String)
    agent: Mapped[str | None] = mapped_column(String, info=coded("agent_source", "agents"))
    agent_source: Mapped[str | None] = mapped_column(String)
    phase: Mapped[str] = mapped_column(String, nullable=False, info=coded("phase_source", "phases"))
    phase_source: Mapped[str | None] = mapped_column(String)


class QlqC30Assessment(RawRecord):
    """One completed EORTC QLQ-C30 questionnaire (its items are in the item table)."""

    __tablename__ = "qlq_c30_assessment"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "assessment_date"]},
    }

    assessment_date: Mapped[date] = mapped_column(Date, nullable=False)
    instrument: Mapped[str] = mapped_column(
        String, nullable=False, info=coded("instrument_source", "qol_instruments")
    )
    instrument_source: Mapped[str | None] = mapped_column(String)


class QlqC30ItemResponse(RawRecord):
    """One answered QLQ-C30 item (1–30) of one assessment; unanswered items have no row."""

    __tablename__ = "qlq_c30_item_response"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "assessment_date", "item_no"]},
    }

    assessment_date: Mapped[date] = mapped_column(Date, nullable=False)
    item_no: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class PerformanceStatus(RawRecord):
    """A Karnofsky (KPS) or ECOG performance status, kept on its own scale."""

    __tablename__ = "performance_status"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "assessment_date", "scale"]},
    }

    assessment_date: Mapped[date] = mapped_column(Date, nullable=False)
    scale: Mapped[str] = mapped_column(
        String, nullable=False, info={"vocabulary": "performance_scales"}
    )
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class LabResult(RawRecord):
    """A laboratory value in its canonical unit (or as sent when no conversion exists)."""

    __tablename__ = "lab_result"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "sample_date", "analyte"]},
    }

    sample_date: Mapped[date] = mapped_column(Date, nullable=False)
    analyte: Mapped[str] = mapped_column(
        String, nullable=False, info=coded("analyte_source", "lab_analytes")
    )
    analyte_source: Mapped[str | None] = mapped_column(String)
    value: Mapped[float | None] = mapped_column(Double, info=measured(None, "lab"))
    unit: Mapped[str | None] = mapped_column(String)
    is_canonical_unit: Mapped[bool] = mapped_column(Boolean, nullable=False)
    lab_source_value: Mapped[str | None] = mapped_column(String)
    lab_source_unit: Mapped[str | None] = mapped_column(String)


class ImagingExam(RawRecord):
    """An imaging examination of one patient on one date."""

    __tablename__ = "imaging_exam"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "exam_date"]},
    }

    exam_date: Mapped[date] = mapped_column(Date, nullable=False)
    modality: Mapped[str | None] = mapped_column(
        String, info=coded("modality_source", "imaging_modalities")
    )
    modality_source: Mapped[str | None] = mapped_column(String)


class LesionMeasurement(RawRecord):
    """One lesion at one exam: organ, target flag, longest diameter in mm, new-lesion flag."""

    __tablename__ = "lesion_measurement"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "exam_date", "lesion_id"]},
    }

    exam_date: Mapped[date] = mapped_column(Date, nullable=False)
    lesion_id: Mapped[str] = mapped_column(String, nullable=False)
    organ: Mapped[str | None] = mapped_column(String, info=coded("organ_source", "organs"))
    organ_source: Mapped[str | None] = mapped_column(String)
    is_target: Mapped[bool | None] = mapped_column(Boolean, info={"source": "is_target_source"})
    is_target_source: Mapped[str | None] = mapped_column(String)
    diameter_mm: Mapped[float | None] = mapped_column(Double, info=measured("mm", "diameter"))
    diameter_source_value: Mapped[str | None] = mapped_column(String)
    diameter_source_unit: Mapped[str | None] = mapped_column(String)
    is_new: Mapped[bool | None] = mapped_column(Boolean, info={"source": "is_new_source"})
    is_new_source: Mapped[str | None] = mapped_column(String)
    is_measured: Mapped[bool] = mapped_column(
        Boolean, nullable=False, info={"present_if_filled": "diameter_mm"}
    )


class ReportedResponse(RawRecord):
    """A tumour response as the centre reported it, with the criteria it used."""

    __tablename__ = "reported_response"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "assessment_date", "criterion"]},
    }

    assessment_date: Mapped[date] = mapped_column(Date, nullable=False)
    criterion: Mapped[str] = mapped_column(
        String, nullable=False, info=coded("criterion_source", "response_criteria")
    )
    criterion_source: Mapped[str | None] = mapped_column(String)
    category: Mapped[str] = mapped_column(
        String, nullable=False, info=coded("category_source", "response_categories")
    )
    category_source: Mapped[str | None] = mapped_column(String)


class AdverseEvent(RawRecord):
    """A reported adverse event, CTCAE v5.0 term and grade."""

    __tablename__ = "adverse_event"
    __table_args__ = {
        "schema": SCHEMA,
        "info": {"natural_key": ["patient_pseudonym", "onset_date", "term"]},
    }

    onset_date: Mapped[date] = mapped_column(Date, nullable=False)
    term: Mapped[str] = mapped_column(
        String, nullable=False, info=coded("term_source", "ctcae_terms")
    )
    term_source: Mapped[str | None] = mapped_column(String)
    grade: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class VitalStatus(RawRecord):
    """Follow-up: the last date the patient was known alive, and death."""

    __tablename__ = "vital_status"
    __table_args__ = {"schema": SCHEMA, "info": {"natural_key": ["patient_pseudonym"]}}

    last_contact_date: Mapped[date | None] = mapped_column(Date)
    is_dead: Mapped[bool | None] = mapped_column(Boolean, info={"source": "is_dead_source"})
    is_dead_source: Mapped[str | None] = mapped_column(String)
    death_date: Mapped[date | None] = mapped_column(Date)
