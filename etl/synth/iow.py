"""Render truth tables as an IOW delivery: a REDCap raw export (choice codes, events,
repeating instruments, checkbox columns) and the project's data dictionary."""

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd

from etl.synth.render import as_text, questionnaires, rounded, to_canonical

SITE = "IOW"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SEX = {"male": "1", "female": "2"}
ORIGIN = {"pancreas": "1", "small_intestine": "2", "lung": "3", "stomach": "4", "rectum": "5",
          "unknown": "6", "other": "7"}
GRADE = {"G1": "1", "G2": "2", "G3": "3"}
PHASE = {"regular": "1", "salvage": "2"}
ORGAN = {"liver": "1", "bone": "2", "lymph_node": "3", "lung": "4", "pancreas": "5",
         "small_intestine": "6", "stomach": "7", "rectum": "8", "peritoneum": "9"}
LAB_COLUMN = {"CGA": ("cga_ngml", 0), "NSE": ("nse_ngml", 1), "HGB": ("hgb_g_dl", 1),
              "PLT": ("plt_k_ul", 0), "WBC": ("wbc_k_ul", 1), "NEUT": ("anc_k_ul", 2),
              "LYMPH": ("alc_k_ul", 2), "CREAT": ("creat_mg_dl", 2)}
CREATININE_MG_DL_PER_UMOL_L = 1 / to_canonical("CREAT", "mg/dL")
GBQ_PER_MCI = to_canonical("activity", "mCi")
MCI_PER_GBQ = 1 / GBQ_PER_MCI
COMPLETE = "2"
TABLES = ["patient", "treatment_cycle", "qlq_c30_assessment", "qlq_c30_item_response",
          "performance_status", "lab_result", "imaging_exam", "lesion_measurement",
          "adverse_event", "vital_status"]


def lab_value(analyte: str, value: float) -> float:
    _, digits = LAB_COLUMN[analyte]
    return rounded(value * (CREATININE_MG_DL_PER_UMOL_L if analyte == "CREAT" else 1), digits)


def activity_mci(gbq) -> float:
    return rounded(float(gbq) * MCI_PER_GBQ, 1)


class Events:
    """REDCap event of a dated record: baseline, the cycle it follows, or follow-up."""

    def __init__(self, cycles: pd.DataFrame) -> None:
        self._cycles = {pid: sorted(group["cycle_date"])
                        for pid, group in cycles.groupby("patient_id")}

    def of(self, patient_id: str, when: date) -> str:
        dates = self._cycles.get(patient_id, [])
        if not dates or when < dates[0]:
            return "baseline_arm_1"
        if when > dates[-1]:
            return "followup_arm_1"
        number = sum(1 for d in dates if d <= when)
        return f"cycle_{number}_arm_1"


def write(tables: dict[str, pd.DataFrame], out: Path, export_date: date) -> Path:
    stamp = export_date.strftime("%Y%m%d")
    folder = out / f"IOW_{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATES / "iow_data_dictionary.csv", folder / "IOW_data_dictionary.csv")
    header = (TEMPLATES / "iow_redcap_header.csv").read_text().strip().split(",")
    events = Events(tables["treatment_cycle"])
    rows: list[dict] = []
    for p in tables["patient"].itertuples():
        rows.append({"record_id": p.patient_id, "redcap_event_name": "baseline_arm_1",
                     "sex": SEX.get(p.sex, p.sex), "yob": as_text(p.birth_year),
                     "primary_site": ORIGIN[p.primary_origin], "who_grade": GRADE[p.who_grade],
                     "ki67": "<2" if p.ki67_below_detection else as_text(p.ki67_percent),
                     "krenning": as_text(p.krenning_score),
                     "met_site___1": "1" if p.liver_metastases else "0",
                     "met_site___2": "1" if p.bone_metastases else "0",
                     "met_site___3": "0", "met_site___4": "0",
                     "demographics_complete": COMPLETE})
    for c in tables["treatment_cycle"].sort_values(["patient_id", "cycle_date"]).itertuples():
        rows.append({"record_id": c.patient_id,
                     "redcap_event_name": f"cycle_{c.cycle_no}_arm_1",
                     "cycle_date": as_text(c.cycle_date),
                     "cycle_activity_mci": as_text(activity_mci(c.administered_activity_gbq)),
                     "agent": "1", "cycle_phase": PHASE[c.phase], "treatment_complete": COMPLETE})
    rows += _qlq_rows(tables, events)
    rows += _lab_rows(tables, events)
    rows += _repeating(events, "imaging_lesions", [
        {"record_id": m.patient_id, "date": m.exam_date, "img_date": as_text(m.exam_date),
         "lesion_id": m.lesion_id, "lesion_site": ORGAN[m.organ],
         "target": "1" if m.is_target else "0", "ld_mm": as_text(m.diameter_mm),
         "new_lesion": "1" if m.is_new else "0"}
        for m in tables["lesion_measurement"].itertuples()])
    rows += _repeating(events, "adverse_events", [
        {"record_id": a.patient_id, "date": a.onset_date, "ae_term": a.term,
         "ae_grade": as_text(a.grade), "ae_onset": as_text(a.onset_date)}
        for a in tables["adverse_event"].itertuples()])
    for v in tables["vital_status"].itertuples():
        rows.append({"record_id": v.patient_id, "redcap_event_name": "followup_arm_1",
                     "last_contact": as_text(v.last_contact_date),
                     "vital_status": "2" if v.is_dead else "1",
                     "death_date": as_text(v.death_date), "followup_complete": COMPLETE})
    with (folder / f"IOW_redcap_{stamp}.csv").open("w", encoding="utf-8", newline="") as out:
        # row by row from the dicts: a data frame of them first cost twice as much
        export = csv.DictWriter(out, header, restval="", extrasaction="ignore",
                                lineterminator="\n")
        export.writeheader()
        export.writerows(rows)
    return folder


def _qlq_rows(tables: dict[str, pd.DataFrame], events: Events) -> list[dict]:
    records = [
        {"record_id": patient_id, "date": when, "qlq_date": as_text(when), "kps": kps,
         **{f"q{i}": answer for i, answer in enumerate(items, start=1)}}
        for patient_id, when, kps, items in questionnaires(tables)]
    return _repeating(events, "qlq_c30", records)


def _lab_rows(tables: dict[str, pd.DataFrame], events: Events) -> list[dict]:
    draws: dict[tuple, dict] = {}  # one REDCap row per patient and sample date
    labs = tables["lab_result"]
    for patient_id, when, analyte, value in zip(
            labs["patient_id"], labs["sample_date"], labs["analyte"], labs["value"],
            strict=True):
        record = draws.setdefault((patient_id, when), {
            "record_id": patient_id, "date": when, "lab_date": as_text(when)})
        record[LAB_COLUMN[analyte][0]] = as_text(
            lab_value(analyte, value) if isinstance(value, float) else value)
    return _repeating(events, "labs", list(draws.values()))


def _repeating(events: Events, instrument: str, records: list[dict]) -> list[dict]:
    """Number repeating-instrument rows per record and event, as REDCap does."""
    instances: dict[tuple[str, str], int] = {}
    rows = []
    for record in sorted(records, key=lambda r: (r["record_id"], r["date"])):
        event = events.of(record["record_id"], record.pop("date"))
        number = instances.get((record["record_id"], event), 0) + 1
        instances[record["record_id"], event] = number
        rows.append({**record, "redcap_event_name": event,
                     "redcap_repeat_instrument": instrument,
                     "redcap_repeat_instance": str(number), f"{instrument}_complete": COMPLETE})
    return rows


def centre_view(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The truth as IOW can express it (mCi to one decimal, US lab units)."""
    view = {name: tables[name] for name in TABLES}
    cycles = tables["treatment_cycle"].copy()
    cycles["administered_activity_gbq"] = [
        activity_mci(g) * GBQ_PER_MCI for g in cycles["administered_activity_gbq"]]
    view["treatment_cycle"] = cycles
    labs = tables["lab_result"].copy()
    labs["value"] = [lab_value(a, v) / CREATININE_MG_DL_PER_UMOL_L if a == "CREAT"
                     else lab_value(a, v)
                     for a, v in zip(labs["analyte"], labs["value"], strict=True)]
    view["lab_result"] = labs
    view["performance_status"] = tables["performance_status"][
        ["patient_id", "assessment_date", "scale", "score"]]
    return view

