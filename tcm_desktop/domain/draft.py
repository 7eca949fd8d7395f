"""The annotation a clinician is correcting, as immutable snapshots, and the model views observe.

:class:`DraftAnnotation` is one state of a record's annotation: its spans
(sorted, never overlapping), its form values and, per field, the spans that
are its evidence. Every edit -- :meth:`~DraftAnnotation.add_span`,
:meth:`~DraftAnnotation.relabel_span`, :meth:`~DraftAnnotation.delete_span`,
:meth:`~DraftAnnotation.set_form_value` -- checks the span and form rules of
SCHEMA.md and returns a new snapshot, or raises :class:`EditError` saying what
is wrong; the snapshot it was called on never changes. Undo is therefore just
"go back to the previous snapshot".

Evidence is kept by span offsets (spans never overlap, so ``(start, end)``
names one span) rather than by index, so adding or deleting a span never
makes a field point at the wrong span; :meth:`~DraftAnnotation.form_evidence`
gives the indices the store and the interchange format use.

:class:`DraftModel` holds the draft being edited and the one last loaded or
saved, and tells observers (napari style, no Qt)::

    model = DraftModel()
    model.events.loaded.connect(view.show_draft)      # (draft | None): another record
    model.events.changed.connect(view.update_draft)   # (draft): an edit, undo or redo
    model.load(DraftAnnotation.from_record(record))
    model.set_draft(model.draft.add_span(0, 2, "SYM"))
    model.is_dirty   # True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tcm_desktop.domain.errors import EditError
from tcm_desktop.domain.events import Event
from tcm_desktop.domain.records import Record, Span, is_edge_char, record_problems
from tcm_desktop.domain.schema import GENERAL, FormField, Schema, default_schema

SpanKey = tuple[int, int]  # (start, end) in code points; names one span since spans never overlap


def span_key(span: Span) -> SpanKey:
    return span.start, span.end


@dataclass(frozen=True)
class DraftAnnotation:
    """One immutable state of a record's annotation (see the module docstring).

    ``spans`` are sorted by offset; ``form`` holds the values the annotation
    states (a field that is absent reads as its empty value, e.g. 未提及);
    ``evidence`` maps a field to the keys of the spans it was derived from.
    """

    record_id: str
    specialty: str
    text: str
    spans: tuple[Span, ...] = ()
    form: Mapping[str, Any] = field(default_factory=dict)
    evidence: Mapping[str, tuple[SpanKey, ...]] = field(default_factory=dict)
    schema: Schema = field(default_factory=default_schema, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", tuple(sorted(self.spans, key=span_key)))
        object.__setattr__(self, "form", MappingProxyType(dict(self.form)))
        evidence = {name: tuple(keys) for name, keys in self.evidence.items() if keys}
        object.__setattr__(self, "evidence", MappingProxyType(evidence))

    @classmethod
    def from_record(cls, record: Record, schema: Schema | None = None) -> DraftAnnotation:
        """The draft of ``record``'s annotation as it is (not checked: a model's or an
        import's spans may break rules; :meth:`problems` lists how). Evidence indices
        that point at no span are dropped."""
        evidence = {
            name: tuple(span_key(record.spans[i]) for i in indices if 0 <= i < len(record.spans))
            for name, indices in record.form_evidence.items()
        }
        return cls(
            record.id,
            record.specialty,
            record.text,
            tuple(record.spans),
            dict(record.form),
            evidence,
            schema if schema is not None else default_schema(),
        )

    # -- reading -------------------------------------------------------------
    @property
    def fields(self) -> tuple[FormField, ...]:
        """The form fields of the record's specialty (the general form for an unknown one)."""
        known = self.specialty in self.schema.specialty_codes
        return self.schema.fields_for(self.specialty if known else GENERAL)

    def form_field(self, name: str) -> FormField:
        for form_field in self.fields:
            if form_field.name == name:
                return form_field
        raise EditError(f"the {self.specialty} form has no field {name!r}")

    def value(self, name: str) -> Any:
        """The value of field ``name``: as stated, else the field's empty value."""
        return self.form[name] if name in self.form else self.form_field(name).empty_value()

    def span(self, key: SpanKey) -> Span:
        for span in self.spans:
            if span_key(span) == tuple(key):
                return span
        raise EditError(f"there is no span at {key[0]}..{key[1]}")

    def span_at(self, offset: int) -> Span | None:
        """The span covering code point ``offset``, if any."""
        for span in self.spans:
            if span.start <= offset < span.end:
                return span
        return None

    def overlapping(self, start: int, end: int) -> tuple[Span, ...]:
        """The spans sharing at least one code point with ``start..end``."""
        return tuple(s for s in self.spans if s.start < end and start < s.end)

    def evidence_spans(self, name: str) -> tuple[Span, ...]:
        """The spans field ``name`` was derived from, in text order."""
        keys = set(self.evidence.get(name, ()))
        return tuple(s for s in self.spans if span_key(s) in keys)

    def fields_citing(self, key: SpanKey) -> tuple[str, ...]:
        """The fields that name the span at ``key`` as evidence, in form order."""
        key = (key[0], key[1])
        return tuple(f.name for f in self.fields if key in self.evidence.get(f.name, ()))

    def form_evidence(self) -> dict[str, tuple[int, ...]]:
        """Evidence as indices into :attr:`spans` (the store's and the interchange form's
        shape), only for fields the form states."""
        index = {span_key(s): i for i, s in enumerate(self.spans)}
        out: dict[str, tuple[int, ...]] = {}
        for name, keys in self.evidence.items():
            indices = tuple(index[k] for k in keys if k in index)
            if indices and name in self.form:
                out[name] = indices
        return out

    def to_record(self, image: str | None = None) -> Record:
        return Record(
            self.record_id, self.specialty, self.text, image, self.spans, dict(self.form), self.form_evidence()
        )

    def problems(self) -> list[str]:
        """Every way the draft breaks the schema (empty when it can be saved as it is)."""
        return [str(p) for p in record_problems(self.to_record(), self.schema)]

    # -- editing -------------------------------------------------------------
    def trimmed(self, start: int, end: int) -> SpanKey:
        """``start..end`` without leading and trailing whitespace or punctuation.

        Raises EditError when the range is empty, outside the text, or holds
        nothing but whitespace and punctuation.
        """
        if start >= end:
            raise EditError("select the words to mark first")
        if start < 0 or end > len(self.text):
            raise EditError(f"the selection {start}..{end} lies outside the text (0..{len(self.text)})")
        while start < end and is_edge_char(self.text[start]):
            start += 1
        while end > start and is_edge_char(self.text[end - 1]):
            end -= 1
        if start == end:
            raise EditError("the selection holds only whitespace or punctuation")
        return start, end

    def add_span(self, start: int, end: int, label: str) -> DraftAnnotation:
        """A new span of ``label`` over ``start..end`` (trimmed of edge whitespace and
        punctuation, SCHEMA.md). It may not overlap another span."""
        self._check_label(label)
        start, end = self.trimmed(start, end)
        piece = self.text[start:end]
        for other in self.overlapping(start, end):
            raise EditError(
                f"{piece!r} overlaps the {self._label_name(other.label)} span {other.text!r} "
                f"at {other.start}..{other.end}; relabel or delete that span first"
            )
        return self._replace(spans=(*self.spans, Span(start, end, label, piece)))

    def relabel_span(self, key: SpanKey, label: str) -> DraftAnnotation:
        """The span at ``key`` with category ``label`` (same offsets, same evidence links)."""
        self._check_label(label)
        old = self.span(key)
        if old.label == label:
            return self
        new = Span(old.start, old.end, label, old.text)  # a person's label has no model confidence
        return self._replace(spans=tuple(new if s is old else s for s in self.spans))

    def delete_span(self, key: SpanKey) -> DraftAnnotation:
        """Without the span at ``key``; fields that cited it no longer do."""
        old = self.span(key)
        gone = span_key(old)
        evidence = {name: tuple(k for k in keys if k != gone) for name, keys in self.evidence.items()}
        return self._replace(spans=tuple(s for s in self.spans if s is not old), evidence=evidence)

    def set_form_value(self, name: str, value: Any) -> DraftAnnotation:
        """Field ``name`` set to ``value`` (checked against the field's type and values).

        Setting the value the field already has -- including the empty value of a
        field the form does not state -- returns this draft unchanged.
        """
        form_field = self.form_field(name)
        reason = form_field.check(value)
        if reason:
            raise EditError(f"{form_field.zh}: {reason}")
        if _same_value(self.value(name), value):
            return self
        return self._replace(form={**self.form, name: value})

    # -- helpers -------------------------------------------------------------
    def _replace(
        self,
        spans: Iterable[Span] | None = None,
        form: Mapping[str, Any] | None = None,
        evidence: Mapping[str, tuple[SpanKey, ...]] | None = None,
    ) -> DraftAnnotation:
        return DraftAnnotation(
            self.record_id,
            self.specialty,
            self.text,
            tuple(self.spans if spans is None else spans),
            self.form if form is None else form,
            self.evidence if evidence is None else evidence,
            self.schema,
        )

    def _check_label(self, label: str) -> None:
        if label not in self.schema.label_codes:
            raise EditError(f"unknown category {label!r}")

    def _label_name(self, code: str) -> str:
        try:
            return self.schema.label(code).zh
        except KeyError:
            return code


def _same_value(a: Any, b: Any) -> bool:
    # 6 == 6.0 == True in Python; a form value of another type is another value.
    return type(a) is type(b) and a == b


class DraftEvents:
    """``loaded(draft | None)``: another record's draft (or none) replaced the old one.
    ``changed(draft)``: the draft was edited (an edit, an undo, a redo, a revert).
    ``dirty_changed(bool)``: the draft started or stopped differing from the saved one.
    """

    def __init__(self) -> None:
        self.loaded = Event()
        self.changed = Event()
        self.dirty_changed = Event()


class DraftModel:
    """The draft being edited and the snapshot last loaded or saved (Qt-free)."""

    def __init__(self) -> None:
        self.events = DraftEvents()
        self._draft: DraftAnnotation | None = None
        self._saved: DraftAnnotation | None = None

    @property
    def draft(self) -> DraftAnnotation | None:
        return self._draft

    @property
    def saved(self) -> DraftAnnotation | None:
        """The draft as loaded, or as last saved."""
        return self._saved

    @property
    def is_dirty(self) -> bool:
        """Whether the draft differs from the saved one (undoing every edit makes it clean)."""
        return self._draft != self._saved

    def load(self, draft: DraftAnnotation | None) -> None:
        """Start editing ``draft`` (another record, or the same one read again)."""
        was_dirty = self.is_dirty
        self._draft = self._saved = draft
        self.events.loaded.emit(draft)
        if was_dirty:
            self.events.dirty_changed.emit(False)

    def set_draft(self, draft: DraftAnnotation) -> None:
        """Replace the draft by an edited snapshot of the same record."""
        if self._draft is None or draft.record_id != self._draft.record_id:
            raise ValueError(f"the draft of {draft.record_id} is not the one being edited")
        if draft is self._draft:
            return
        was_dirty = self.is_dirty
        self._draft = draft
        self.events.changed.emit(draft)
        if self.is_dirty != was_dirty:
            self.events.dirty_changed.emit(self.is_dirty)

    def mark_saved(self) -> None:
        """The draft as it is now has been saved."""
        was_dirty = self.is_dirty
        self._saved = self._draft
        if was_dirty:
            self.events.dirty_changed.emit(False)

    def revert(self) -> None:
        """Drop the edits: back to the saved draft."""
        if self._saved is not None and self.is_dirty:
            self.set_draft(self._saved)
