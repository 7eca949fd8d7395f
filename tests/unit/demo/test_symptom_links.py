"""The generator's opt-in syndrome -> symptom links: the ground truth the mining benchmark scores against."""

from __future__ import annotations

from tcm_desktop.demo.gen_case import LINKS_PER_SYNDROME, symptom_links, symptom_pools
from tcm_desktop.demo.gen_vocab import vocab
from tcm_desktop.demo.generator import generate_records


def _link_share(linked: bool, n: int = 400) -> float:
    """Share of (record, linked symptom) pairs where the patient has the symptom."""
    v = vocab()
    hits = total = 0
    for generated in generate_records(n, seed=11, linked_symptoms=linked):
        case = generated.case
        assert case is not None
        links = symptom_links(v, v.canonical.get(case.syndromes[0], case.syndromes[0]), case.specialty)
        present = {e["term"] for e in case.symptoms}
        hits += len(set(links) & present)
        total += len(links)
    return hits / total


def test_links_are_known_symptoms_the_specialty_may_write() -> None:
    v = vocab()
    for specialty in ("anorectal", "orthopedics", "respiratory", "gastro", "general"):
        allowed = {e["term"] for e in symptom_pools(v, specialty)}
        for entry in v.terms("SYNDROME", specialty):
            links = symptom_links(v, entry["term"], specialty)
            assert len(links) <= LINKS_PER_SYNDROME
            assert set(links) <= allowed
    assert symptom_links(v, "湿热下注证", "anorectal")[:2] == ("肛门灼热", "大便黏滞")


def test_linked_symptoms_follow_their_syndrome_only_when_asked() -> None:
    assert _link_share(linked=True) > 0.55  # drawn with probability 0.65
    assert _link_share(linked=False) < 0.2  # the usual corpus: complaints independent of the syndrome


def test_the_usual_corpus_is_unchanged_by_the_option() -> None:
    plain = [g.record.to_dict() for g in generate_records(60, seed=4)]
    assert plain == [g.record.to_dict() for g in generate_records(60, seed=4, linked_symptoms=False)]
    assert plain != [g.record.to_dict() for g in generate_records(60, seed=4, linked_symptoms=True)]
