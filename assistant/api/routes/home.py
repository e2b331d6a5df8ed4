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
 <li><a href="/health"><code>GET /health</code></a> — état du service et de la base de données (public)</li>
 <li><code>POST /auth/token</code> — obtenir un jeton ; <code>GET /auth/me</code> — mon compte et mes permissions</li>
 <li><code>POST /triage</code> — trier un dossier (fichier JSON, JSON Lines, texte ou ICSR E2B(R3) XML)</li>
 <li><a href="/assessments"><code>GET /assessments</code></a> — évaluations enregistrées ;
     <code>GET /assessments/{id}</code> — une évaluation complète</li>
 <li><a href="/search?q=myocardite%20apr%C3%A8s%20vaccination"><code>GET /search?q=…</code></a> —
     recherche de passages cités (filtres <code>source</code>, <code>kind</code>, <code>type</code>,
     <code>method</code>, <code>k</code>)</li>
 <li><a href="/dossiers"><code>GET /dossiers</code></a> — dossiers enregistrés ;
     <code>GET /dossiers/{id}</code> et <code>GET /dossiers/{id}/precedents</code>
     (identifiant encodé en pourcentage, par exemple <code>sample%3Apv-001</code>)</li>
 <li><a href="/queue"><code>GET /queue</code></a> — dossiers en attente de décision, par niveau de risque puis
     jours restants avant l'échéance réglementaire ;
     <code>POST /dossiers/{id}/decision</code> — accepter ou modifier la proposition (motif obligatoire
     si elle est modifiée)</li>
 <li><code>POST /feedback</code> — envoyer un retour (utile, pas utile, suggestion, problème) ;
     <a href="/changelog"><code>GET /changelog</code></a> — nouveautés (public)</li>
 <li><a href="/openapi.json"><code>GET /openapi.json</code></a> — description OpenAPI complète
     (la page <code>/docs</code> charge Swagger UI depuis Internet : hors ligne, utilisez ce fichier)</li>
</ul>
<h2>S'authentifier</h2>
<p>Toutes les routes sauf cette page, <code>/health</code>, <code>/openapi.json</code> et
<code>POST /auth/token</code> demandent un jeton. Un administrateur crée les comptes
(<code>gdr users create LOGIN --role evaluateur|expert|formateur|admin</code>).</p>
<ol>
 <li><code>POST /auth/token</code> avec les champs de formulaire <code>username</code> et <code>password</code>
     → <code>{"access_token": "…", "token_type": "bearer"}</code> ;</li>
 <li>envoyez ensuite l'en-tête <code>Authorization: Bearer &lt;access_token&gt;</code> ;
     <code>GET /auth/me</code> indique votre rôle et vos permissions.</li>
</ol>
<h2>Trier un dossier</h2>
<pre><code>TOKEN=$(curl -s -X POST http://127.0.0.1:8000/auth/token -d username=LOGIN \\
  --data-urlencode password=MOT_DE_PASSE \\
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
curl -H "Authorization: Bearer $TOKEN" -F file=@dossier.json http://127.0.0.1:8000/triage</code></pre>
<p>Le résultat (JSON) indique le niveau de risque (<code>faible</code>, <code>modéré</code>,
<code>élevé</code>, <code>critique</code>), le mode de traitement, les critères avec leurs preuves
et l'identifiant de l'évaluation enregistrée (<code>assessment_id</code>).</p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    return HTMLResponse(HOME_HTML)
