"""Before saving: the file diff, what `kpi diff` will tell IT (breaking first), and the save buttons."""

from __future__ import annotations

import streamlit as st

from .checking import Checked
from .feedback import Comparison
from .session import Candidate, save
from .ui_text import plain
from .workspace import Workspace


def save_panel(ws: Workspace, disk: Checked, after: Checked, cand: Candidate) -> None:
    st.divider()
    st.subheader("Save")
    if cand.path is None:
        st.info(plain(cand.problem or "Give the KPI an id and an objective first."))
        return
    if not cand.changed:
        st.caption("No changes to save.")
        return
    label = ws.display(cand.path)
    st.markdown("**The change to the file**")
    st.code(cand.diff(label), language="diff")
    comp = Comparison(disk.validated.catalog, after.validated.catalog, not after.validated.report.errors)
    changes = comp.changes()
    st.markdown("**What `kpi diff` will tell IT**")
    if changes:
        lines = [("BREAKING for IT: " if c.breaking else "") + c.message
                 + (f"  (KPIs: {', '.join(k for k, _o in c.kpis)})" if c.kpis else "") for c in changes]
        st.code("\n".join(lines), language=None)
    else:
        st.caption("No change to events, params, custom definitions or KPIs.")
    errors = after.errors_in(cand.path)
    draft = False
    if errors:
        st.error(f"This KPI has {len(errors)} error(s). Fix them, or save it as a draft: `status: draft` is written "
                 "and `kpi validate` keeps reporting the errors until they are fixed.", icon=":material/error:")
        draft = st.checkbox("Save it as a draft with its errors", key="save.draft")
    st.button("Save as draft" if errors else "Save", key="save.go", type="primary", disabled=bool(errors) and not draft,
              on_click=save, args=(ws, disk.validated.catalog, bool(errors)))
