"""Render truth tables as a TRL delivery: CDISC SDTM domains in SAS transport (XPORT v5)
files. Each trial site reports in its own units (GBq or mCi, mm or cm, SI or US labs),
as the site-exports README describes."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from etl.synth.render import as_text, as_texts, missing, rounded, to_canonical
from etl.synth.xport import write_xport

SITE = "TRL"
STUDY = "TRL-PRRT-01"
TRIAL_SITES = ["101", "102", "103", "104"]
ITEMS = 30  # EORTC QLQ-C30 items per questionnaire
ORIGIN = {"pancreas": "PANCREAS", "small_intestine": "MIDGUT", "lung": "LUNG",
          "stomach": "STOMACH", "rectum": "RECTUM", "unknown": "UNKNOWN", "other": "OTHER"}
ORGAN = {"liver": "LIVER", "bone": "BONE", "lymph_node": "LYMPH NODE", "lung": "LUNG",
         "pancreas": "PANCREAS", "small_intestine": "SMALL INTESTINE", "peritoneum": "PERITONEUM"}
LAB_CODE = {"CGA": "CHROMOGA", "NSE": "NSE", "HGB": "HGB", "PLT": "PLAT", "WBC": "WBC",
            "NEUT": "NEUT", "LYMPH": "LYM", "CREAT": "CREAT"}
HB_MMOL_PER_G_DL = 1 / to_canonical("HGB", "mmol/L")
CREATININE_MG_DL_PER_UMOL_L = 1 / to_canonical("CREAT", "mg/dL")
GBQ_PER_MCI = to_canonical("activity", "mCi")
MCI_PER_GBQ = 1 / GBQ_PER_MCI
TABLES = ["patient", "treatment_cycle", "qlq_c30_assessment", "qlq_c30_item_response",
          "performance_status", "lab_result", "imaging_exam", "lesion_measurement",
          "reported_response", "adverse_event", "vital_status"]


def trial_site(patient_id: str) -> str:
    return TRIAL_SITES[int(patient_id) % len(TRIAL_SITES)]


def usubjid(patient_id: str) -> str:
    return f"{STUDY}-{trial_site(patient_id)}-{patient_id}"


def activity(patient_id: str, gbq) -> tuple[float, str]:
    """Site 103 doses in mCi (two decimals), the others in GBq."""
    if trial_site(patient_id) == "103":
        return rounded(float(gbq) * MCI_PER_GBQ, 2), "mCi"
    return float(gbq), "GBq"


def lab(patient_id: str, analyte: str, value: float) -> tuple[float, str]:
    """The result as the trial site reports it (LBORRES / LBORRESU)."""
    site = trial_site(patient_id)
    if analyte == "HGB":
        return ((rounded(value * HB_MMOL_PER_G_DL, 1), "mmol/L") if site == "102"
                else (rounded(value, 1), "g/dL"))
    if analyte == "CREAT":
        return ((rounded(value * CREATININE_MG_DL_PER_UMOL_L, 2), "mg/dL") if site == "103"
                else (rounded(value, 0), "umol/L"))
    if analyte in ("CGA", "NSE"):
        return rounded(value, 1), "ug/L" if site == "101" else "ng/mL"
    return rounded(value, 2), "10^3/uL" if site == "103" else "10^9/L"


def diameter(patient_id: str, mm: float | None) -> tuple[str, str]:
    if missing(mm):
        return "", ""
    if trial_site(patient_id) in ("102", "104"):
        return as_text(rounded(mm / 10, 1)), "cm"
    return as_text(mm), "mm"


def link_ids(lesions: pd.DataFrame) -> dict[tuple[str, str], str]:
    """TU/TR link ids per (patient, lesion): T01…, NT01…, NEW01… numbered per patient and
    kind in lesion order, each lesion's kind as at its first appearance."""
    first = lesions.sort_values(["patient_id", "exam_date"]).drop_duplicates(
        ["patient_id", "lesion_id"])
    first = first.assign(kind=np.where(first["is_new"], "NEW",
                                       np.where(first["is_target"], "T", "NT")),
                         order=first["lesion_id"].astype(int)
                         ).sort_values(["patient_id", "order"], kind="stable")
    number = first.groupby(["patient_id", "kind"]).cumcount() + 1
    return {(patient_id, lesion_id): f"{kind}{n:02d}" for patient_id, lesion_id, kind, n in zip(
        first["patient_id"], first["lesion_id"], first["kind"], number, strict=True)}


def _xpt(folder: Path, domain: str, rows: list[dict] | pd.DataFrame, columns: list[str],
         when: date) -> None:
    """One domain's transport file; ``write_xport`` writes missing text as blanks."""
    write_xport(pd.DataFrame(rows, columns=columns), folder / f"{domain.lower()}.xpt", domain,
                when)


def write(tables: dict[str, pd.DataFrame], out: Path, export_date: date) -> Path:
    folder = out / f"TRL_{export_date.strftime('%Y%m%d')}"
    folder.mkdir(parents=True, exist_ok=True)
    first_cycle = tables["treatment_cycle"].groupby("patient_id")["cycle_date"].min()
    vital = tables["vital_status"].set_index("patient_id")
    dm, supp = [], []
    for p in tables["patient"].itertuples():
        subject, status = usubjid(p.patient_id), vital.loc[p.patient_id]
        dm.append({"STUDYID": STUDY, "DOMAIN": "DM", "USUBJID": subject,
                   "SUBJID": subject[len(STUDY) + 1:], "RFSTDTC": as_text(first_cycle.get(
                       p.patient_id)), "DTHDTC": as_text(status.death_date),
                   "DTHFL": "Y" if bool(status.is_dead) else "",
                   "SITEID": trial_site(p.patient_id), "BRTHDTC": as_text(p.birth_year),
                   "SEX": {"female": "F", "male": "M"}.get(p.sex, p.sex)})
        qualifiers = {"PRIMSITE": ORIGIN[p.primary_origin], "WHOGRADE": p.who_grade,
                      "KI67": "<2" if p.ki67_below_detection else as_text(p.ki67_percent),
                      "KRENNING": as_text(p.krenning_score),
                      "METBONE": "Y" if p.bone_metastases else "N",
                      "METLIVER": "Y" if p.liver_metastases else "N"}
        supp += [{"STUDYID": STUDY, "RDOMAIN": "DM", "USUBJID": subject, "IDVAR": "",
                  "IDVARVAL": "", "QNAM": name, "QLABEL": name, "QVAL": value, "QORIG": "CRF"}
                 for name, value in qualifiers.items() if value]
    _xpt(folder, "DM", dm, ["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "DTHDTC",
                            "DTHFL", "SITEID", "BRTHDTC", "SEX"], export_date)
    _xpt(folder, "SUPPDM", supp, ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM",
                                  "QLABEL", "QVAL", "QORIG"], export_date)
    _xpt(folder, "EX", [
        {"STUDYID": STUDY, "DOMAIN": "EX", "USUBJID": usubjid(c.patient_id),
         "EXSEQ": float(i + 1), "EXTRT": "177LU-DOTATATE",
         "EXCAT": "REGULAR" if c.phase == "regular" else "RETREATMENT",
         "EXDOSE": activity(c.patient_id, c.administered_activity_gbq)[0],
         "EXDOSU": activity(c.patient_id, c.administered_activity_gbq)[1],
         "EXSTDTC": as_text(c.cycle_date)}
        for i, c in enumerate(tables["treatment_cycle"].itertuples())],
        ["STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXCAT", "EXDOSE", "EXDOSU",
         "EXSTDTC"], export_date)
    _write_qs(folder, tables, export_date)
    _xpt(folder, "LB", [
        {"STUDYID": STUDY, "DOMAIN": "LB", "USUBJID": usubjid(r.patient_id),
         "LBTESTCD": LAB_CODE[r.analyte],
         "LBORRES": as_text(lab(r.patient_id, r.analyte, r.value)[0])
         if isinstance(r.value, float) else as_text(r.value),
         "LBORRESU": getattr(r, "unit_as_sent", None) or lab(r.patient_id, r.analyte,
                                                             r.value)[1]
         if isinstance(r.value, float) else getattr(r, "unit_as_sent", None) or "",
         "LBDTC": as_text(r.sample_date)}
        for r in tables["lab_result"].itertuples()],
        ["STUDYID", "DOMAIN", "USUBJID", "LBTESTCD", "LBORRES", "LBORRESU", "LBDTC"], export_date)
    _write_tumours(folder, tables, export_date)
    _xpt(folder, "RS", [
        {"STUDYID": STUDY, "DOMAIN": "RS", "USUBJID": usubjid(r.patient_id),
         "RSTESTCD": "OVRLRESP", "RSCAT": "RECIST 1.1", "RSORRES": r.category,
         "RSSTRESC": r.category, "RSDTC": as_text(r.assessment_date)}
        for r in reported_responses(tables).itertuples()],
        ["STUDYID", "DOMAIN", "USUBJID", "RSTESTCD", "RSCAT", "RSORRES", "RSSTRESC", "RSDTC"],
        export_date)
    _xpt(folder, "AE", [
        {"STUDYID": STUDY, "DOMAIN": "AE", "USUBJID": usubjid(a.patient_id),
         "AETERM": a.term.upper(), "AEDECOD": a.term, "AETOXGR": as_text(a.grade),
         "AESTDTC": as_text(a.onset_date)}
        for a in tables["adverse_event"].itertuples()],
        ["STUDYID", "DOMAIN", "USUBJID", "AETERM", "AEDECOD", "AETOXGR", "AESTDTC"], export_date)
    ds = []
    for v in tables["vital_status"].itertuples():
        ds.append({"STUDYID": STUDY, "DOMAIN": "DS", "USUBJID": usubjid(v.patient_id),
                   "DSDECOD": "LAST CONTACT", "DSSTDTC": as_text(v.last_contact_date)})
        if bool(v.is_dead):
            ds.append({"STUDYID": STUDY, "DOMAIN": "DS", "USUBJID": usubjid(v.patient_id),
                       "DSDECOD": "DEATH", "DSSTDTC": as_text(v.death_date)})
    _xpt(folder, "DS", ds, ["STUDYID", "DOMAIN", "USUBJID", "DSDECOD", "DSSTDTC"], export_date)
    return folder


def _write_qs(folder: Path, tables: dict[str, pd.DataFrame], when: date) -> None:
    """Thirty item rows per questionnaire (an unanswered item NOT DONE), then ECOG rows;
    built column-wise, as the domain is the largest of the delivery."""
    keys = ["patient_id", "assessment_date", "item_no"]
    assessments = tables["qlq_c30_assessment"]
    items = pd.DataFrame({
        "patient_id": np.repeat(assessments["patient_id"].to_numpy(), ITEMS),
        "assessment_date": np.repeat(assessments["assessment_date"].to_numpy(), ITEMS),
        "item_no": np.tile(np.arange(1, ITEMS + 1), len(assessments))})
    answers = tables["qlq_c30_item_response"][[*keys, "response"]].drop_duplicates(
        keys, keep="last")  # as a lookup: the last answer of an item counts
    answered = items.merge(answers, on=keys, how="left", indicator=True)
    response = answered["response"]
    given = (answered["_merge"] == "both").to_numpy()
    if response.dtype == object:
        given &= np.array([value is not None for value in response], dtype=bool)
    status = performance(tables)
    _xpt(folder, "QS", pd.concat([
        pd.DataFrame({"USUBJID": answered["patient_id"].map(usubjid),
                      "QSTESTCD": [f"QLQ{item:02d}" for item in answered["item_no"]],
                      "QSCAT": "EORTC QLQ-C30 V3.0", "QSORRES": as_texts(response),
                      "QSSTAT": np.where(given, "", "NOT DONE"),
                      "QSDTC": as_texts(answered["assessment_date"])}),
        pd.DataFrame({"USUBJID": status["patient_id"].map(usubjid), "QSTESTCD": "ECOG",
                      "QSCAT": "PERFORMANCE STATUS", "QSORRES": as_texts(status["score"]),
                      "QSSTAT": "", "QSDTC": as_texts(status["assessment_date"])}),
    ], ignore_index=True).assign(STUDYID=STUDY, DOMAIN="QS"),
        ["STUDYID", "DOMAIN", "USUBJID", "QSTESTCD", "QSCAT", "QSORRES", "QSSTAT", "QSDTC"], when)


def _write_tumours(folder: Path, tables: dict[str, pd.DataFrame], when: date) -> None:
    lesions = tables["lesion_measurement"]
    ids = link_ids(lesions)
    first = lesions.sort_values(["patient_id", "exam_date"]).drop_duplicates(
        ["patient_id", "lesion_id"])
    _xpt(folder, "TU", [
        {"STUDYID": STUDY, "DOMAIN": "TU", "USUBJID": usubjid(m.patient_id),
         "TULNKID": ids[m.patient_id, m.lesion_id],
         "TUORRES": "NEW" if m.is_new else "TARGET" if m.is_target else "NON-TARGET",
         "TULOC": ORGAN[m.organ], "TUDTC": as_text(m.exam_date)}
        for m in first.itertuples()],
        ["STUDYID", "DOMAIN", "USUBJID", "TULNKID", "TUORRES", "TULOC", "TUDTC"], when)
    rows = []
    for m in lesions.itertuples():
        result, unit = diameter(m.patient_id, m.diameter_mm)
        rows.append({"STUDYID": STUDY, "DOMAIN": "TR", "USUBJID": usubjid(m.patient_id),
                     "TRLNKID": ids[m.patient_id, m.lesion_id], "TRTESTCD": "LDIAM",
                     "TRORRES": result, "TRORRESU": unit,
                     "TRSTAT": "" if result else "NOT DONE", "TRDTC": as_text(m.exam_date)})
    _xpt(folder, "TR", rows, ["STUDYID", "DOMAIN", "USUBJID", "TRLNKID", "TRTESTCD", "TRORRES",
                              "TRORRESU", "TRSTAT", "TRDTC"], when)


def reported_responses(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """RECIST 1.1 as the sponsor reports it (RECIST has no minor response: MR is SD)."""
    responses = tables["response"]
    if responses.empty:
        return pd.DataFrame(columns=["patient_id", "assessment_date", "criterion", "category"])
    return pd.DataFrame({
        "patient_id": responses["patient_id"], "assessment_date": responses["assessment_date"],
        "criterion": "RECIST11", "category": responses["category"].replace({"MR": "SD"})})


def performance(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    status = tables["performance_status"]
    return pd.DataFrame({"patient_id": status["patient_id"],
                         "assessment_date": status["assessment_date"], "scale": "ECOG",
                         "score": status["ecog"]})


def centre_view(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The truth as TRL expresses it: USUBJIDs, link ids, ECOG, site units and rounding."""
    view = {name: tables[name].copy() for name in TABLES if name in tables}
    view["reported_response"] = reported_responses(tables)
    view["performance_status"] = performance(tables)
    lesions = view["lesion_measurement"]
    ids = link_ids(lesions)
    lesions["lesion_id"] = [ids[k] for k in zip(lesions["patient_id"], lesions["lesion_id"],
                                                strict=True)]
    lesions["diameter_mm"] = [
        None if missing(mm) else float(diameter(p, mm)[0]) * (10 if diameter(p, mm)[1] == "cm"
                                                              else 1)
        for p, mm in zip(lesions["patient_id"], lesions["diameter_mm"], strict=True)]
    view["imaging_exam"] = view["imaging_exam"].assign(modality=None)
    cycles = view["treatment_cycle"]
    cycles["administered_activity_gbq"] = [
        dose * to_canonical("activity", unit)
        for dose, unit in (activity(p, g) for p, g in zip(
            cycles["patient_id"], cycles["administered_activity_gbq"], strict=True))]
    cycles["cycle_no"] = None
    labs = view["lab_result"]
    labs["value"] = [_canonical_lab(p, a, v) for p, a, v in zip(
        labs["patient_id"], labs["analyte"], labs["value"], strict=True)]
    for frame in view.values():
        if "patient_id" in frame:
            frame["patient_id"] = frame["patient_id"].map(usubjid)
    return view


def _canonical_lab(patient_id: str, analyte: str, value: float) -> float:
    reported, unit = lab(patient_id, analyte, value)
    return reported * to_canonical(analyte, unit)
