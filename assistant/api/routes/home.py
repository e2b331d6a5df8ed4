"""``GET /``: a small French home page (works offline: no CDN, unlike ``/docs``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

HOME_HTML = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>GDR Santé — API</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d2733; }
 h1 { font-size: 1.5rem; } code { background: #eef1f4; padding: 0 .25rem; border-radius: 3px; }
 li { margin: .3rem 0; } form { border: 1px solid #cdd5df; padding: 1rem; border-radius: 6px; }
 label { display: block; margin: .5rem 0; }
</style>
</head>
<body>
<h1>GDR Santé — aide à la décision pour la gestion des risques</h1>
<p>Cette API estime le niveau de risque d'un dossier (AMM, AEC, pharmacovigilance), propose un mode
de traitement et le justifie par des critères, des précédents et le référentiel cités. Elle aide
l'évaluateur : elle ne décide pas à sa place.</p>
<p><strong><a href="/chat/">Ouvrir la discussion</a></strong> (<code>/chat</code>) — collez un dossier ou
joignez un fichier pour obtenir le niveau de risque, le mode de traitement et les précédents cités ;
<code>/recherche …</code> pour chercher dans les corpus et le référentiel.</p>
<h2>Points d'accès</h2>
<ul>
 <li><a href="/health"><code>GET /health</code></a> — état du service et de la base de données</li>
 <li><code>POST /triage</code> — trier un dossier (fichier JSON, JSON Lines, texte ou ICSR E2B(R3) XML)</li>
 <li><a href="/assessments"><code>GET /assessments</code></a> — évaluations enregistrées ;
     <code>GET /assessments/{id}</code> — une évaluation complète</li>
 <li><a href="/search?q=myocardite%20apr%C3%A8s%20vaccination"><code>GET /search?q=…</code></a> —
     recherche de passages cités (filtres <code>source</code>, <code>kind</code>, <code>type</code>,
     <code>method</code>, <code>k</code>)</li>
 <li><a href="/dossiers"><code>GET /dossiers</code></a> — dossiers enregistrés ;
     <code>GET /dossiers/{id}</code> et <code>GET /dossiers/{id}/precedents</code>
     (identifiant encodé en pourcentage, par exemple <code>sample%3Apv-001</code>)</li>
 <li><a href="/openapi.json"><code>GET /openapi.json</code></a> — description OpenAPI complète
     (la page <code>/docs</code> charge Swagger UI depuis Internet : hors ligne, utilisez ce fichier)</li>
</ul>
<h2>Trier un dossier</h2>
<form action="/triage" method="post" enctype="multipart/form-data">
 <label>Fichier du dossier : <input type="file" name="file" required></label>
 <label>Type (pour un texte libre) :
  <select name="type">
   <option value="">— deviner / pharmacovigilance —</option>
   <option value="pv">pv — pharmacovigilance</option>
   <option value="amm">amm — autorisation de mise sur le marché</option>
   <option value="aec">aec — autorisation d'essai clinique</option>
  </select>
 </label>
 <input type="hidden" name="precedents" value="non">
 <label><input type="checkbox" name="precedents" value="oui" checked> chercher les précédents</label>
 <button type="submit">Trier</button>
</form>
<p>Le résultat (JSON) indique le niveau de risque (<code>faible</code>, <code>modéré</code>,
<code>élevé</code>, <code>critique</code>), le mode de traitement, les critères avec leurs preuves
et l'identifiant de l'évaluation enregistrée (<code>assessment_id</code>).</p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    return HTMLResponse(HOME_HTML)
