// Risk card of a triaged dossier (GDR Santé). Props are built by ui/cards.py (risk_card); texts are French.
// The level is written in words and coloured (never colour alone); evidence is highlighted with <mark>.
const TONES = {
  low: { bg: "#e7f5ec", fg: "#0b4f1f", border: "#2e7d32" },
  medium: { bg: "#fff6d9", fg: "#5c4200", border: "#a67c00" },
  high: { bg: "#ffe9d6", fg: "#7a2e00", border: "#c25100" },
  critical: { bg: "#fde4e4", fg: "#7f0000", border: "#b00020" },
};

function Segments({ items, label }) {
  return (
    <>
      {(items || []).map((s, i) =>
        s.mark ? (
          <mark key={i} title={label ? `${label} ${s.mark}` : s.mark} style={{ background: "#fff2a8", color: "#1a1a1a", padding: "0 2px" }}>
            {s.text}
          </mark>
        ) : (
          <span key={i}>{s.text}</span>
        )
      )}
    </>
  );
}

function Hits({ items, empty, labels }) {
  if (!items || items.length === 0) return <p>{empty}</p>;
  return (
    <ol style={{ paddingLeft: "1.2rem", margin: 0 }}>
      {items.map((h) => (
        <li key={h.n} style={{ marginBottom: "0.6rem" }}>
          <strong>{h.title}</strong> <code>{h.document_id}</code> — {labels.similarity} {h.similarity}
          {h.outcome ? (
            <div>
              <em>{labels.outcome}</em> : {h.outcome}
            </div>
          ) : null}
          <blockquote style={{ margin: "0.3rem 0", paddingLeft: "0.6rem", borderLeft: "3px solid #888" }}>
            <Segments items={h.excerpt} />
          </blockquote>
          <div style={{ fontSize: "0.85rem" }}>{labels.openSide.replace("{name}", h.side)}</div>
        </li>
      ))}
    </ol>
  );
}

export default function RiskCard() {
  const p = props;
  const L = p.labels || {};
  const tone = TONES[p.tone] || TONES.low;
  const section = { marginTop: "0.8rem" };
  const h = { fontSize: "1rem", fontWeight: 700, margin: "0 0 0.3rem 0" };
  return (
    <section lang="fr" aria-label={`${L.card} ${p.id}`} style={{ border: `2px solid ${tone.border}`, borderRadius: "8px", padding: "0.8rem", lineHeight: 1.45 }}>
      <div role="status" data-testid="risk-level" style={{ background: tone.bg, color: tone.fg, borderRadius: "6px", padding: "0.5rem 0.7rem", fontWeight: 700, fontSize: "1.1rem" }}>
        {p.levelText} — {L.score} {p.score}
      </div>
      {p.needsReview ? <p style={{ fontWeight: 600 }}>{p.needsReview}</p> : null}
      <dl style={{ display: "grid", gridTemplateColumns: "max-content 1fr", gap: "0.2rem 0.8rem", margin: "0.6rem 0 0 0" }}>
        <dt style={{ fontWeight: 600 }}>{L.mode}</dt>
        <dd style={{ margin: 0 }}>{p.mode.label} (<code>{p.mode.code}</code>)</dd>
        <dt style={{ fontWeight: 600 }}>{L.expertises}</dt>
        <dd style={{ margin: 0 }}>{(p.mode.expertises || []).join(", ") || "–"}</dd>
        {p.deadline ? (
          <>
            <dt style={{ fontWeight: 600 }}>{L.deadline}</dt>
            <dd style={{ margin: 0 }} data-testid="deadline">
              {p.deadline.days} j — {L.due} {p.deadline.due} ({p.deadline.left})
            </dd>
          </>
        ) : null}
        {p.mode.reference ? (
          <>
            <dt style={{ fontWeight: 600 }}>{L.reference}</dt>
            <dd style={{ margin: 0 }}>{p.mode.reference}</dd>
          </>
        ) : null}
      </dl>
      <div style={section}>
        <h3 style={h}>{L.criteria}</h3>
        {p.criteria.length === 0 ? <p>{L.noCriteria}</p> : (
          <ul style={{ paddingLeft: "1.2rem", margin: 0 }}>
            {p.criteria.map((c) => (
              <li key={c.code}>
                <strong>{c.code}</strong> — {c.label}
                {c.evidence.length ? <span> ; {L.evidence} : {c.evidence.join(" ; ")}</span> : null}
                {c.reference ? <div style={{ fontSize: "0.85rem" }}>{L.reference} : {c.reference}</div> : null}
              </li>
            ))}
          </ul>
        )}
      </div>
      {p.text && p.text.length ? (
        <div style={section}>
          <h3 style={h}>{L.text}</h3>
          <p style={{ whiteSpace: "pre-wrap", margin: 0 }}><Segments items={p.text} label={L.evidence} /></p>
        </div>
      ) : null}
      <div style={section}>
        <h3 style={h}>{L.explanation}</h3>
        <ul style={{ paddingLeft: "1.2rem", margin: 0 }}>
          {p.explanation.map((line, i) => <li key={i}>{line}</li>)}
        </ul>
      </div>
      {p.context && p.context.length ? (
        <div style={section}>
          <h3 style={h}>{L.context}</h3>
          <ul style={{ paddingLeft: "1.2rem", margin: 0 }}>
            {p.context.map((c, i) => <li key={i}>{c.fact} — {c.source}</li>)}
          </ul>
        </div>
      ) : null}
      <div style={section}>
        <h3 style={h}>{L.precedents}</h3>
        <Hits items={p.precedents} empty={L.noPrecedents} labels={L} />
      </div>
      {p.guidelines && p.guidelines.length ? (
        <div style={section}>
          <h3 style={h}>{L.guidelines}</h3>
          <Hits items={p.guidelines} empty="" labels={L} />
        </div>
      ) : null}
      {p.warnings && p.warnings.length ? (
        <div style={section}>
          <h3 style={h}>{L.warnings}</h3>
          <ul style={{ paddingLeft: "1.2rem", margin: 0 }}>{p.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
        </div>
      ) : null}
      <p style={{ fontSize: "0.8rem", marginTop: "0.8rem" }}>{p.versions}</p>
    </section>
  );
}
