// GDR Santé: accessible names (French) for Chainlit's icon-only buttons (RGAA 11.9, axe "button-name").
// Each button without a name gets one from its icon (lucide class); the page language is French.
(function () {
  var NAMES = {
    "lucide-eye": "Afficher le mot de passe",
    "lucide-eye-off": "Masquer le mot de passe",
    "lucide-thumbs-up": "Réponse utile",
    "lucide-thumbs-down": "Réponse pas utile",
    "lucide-copy": "Copier",
    "lucide-check": "Copié",
    "lucide-panel-left": "Afficher ou masquer l'historique",
    "lucide-panel-left-close": "Masquer l'historique",
    "lucide-panel-left-open": "Afficher l'historique",
    "lucide-square-pen": "Nouvelle discussion",
    "lucide-pencil": "Modifier",
    "lucide-settings": "Paramètres",
    "lucide-settings-2": "Paramètres",
    "lucide-paperclip": "Joindre un fichier",
    "lucide-arrow-up": "Envoyer",
    "lucide-send": "Envoyer",
    "lucide-x": "Fermer",
    "lucide-square": "Arrêter",
    "lucide-circle-stop": "Arrêter",
    "lucide-search": "Rechercher",
    "lucide-sun": "Thème clair",
    "lucide-moon": "Thème sombre",
    "lucide-chevron-down": "Déplier",
    "lucide-chevron-up": "Replier",
    "lucide-chevron-right": "Déplier",
    "lucide-ellipsis": "Plus d'actions",
    "lucide-mic": "Dicter",
    "lucide-share-2": "Partager",
    "lucide-arrow-down": "Aller au dernier message",
    "lucide-maximize": "Agrandir",
    "lucide-minimize": "Réduire",
    "lucide-download": "Télécharger",
    "lucide-message-circle": "Modifier le commentaire",
    "lucide-arrow-left": "Fermer le panneau latéral"
  };
  var BY_ID = {
    "sidebar-trigger-button": "Afficher ou masquer l'historique",
    "search-chats-button": "Rechercher dans les discussions",
    "new-chat-button": "Nouvelle discussion",
    "upload-button": "Joindre un fichier",
    "chat-submit": "Envoyer le message",
    "stop-button": "Arrêter",
    "theme-toggle": "Changer de thème",
    "chat-settings-open-modal": "Paramètres de la discussion"
  };
  function nameOf(el) {
    if (el.id && BY_ID[el.id]) return BY_ID[el.id];
    var svg = el.querySelector("svg");
    if (!svg) return "";
    if (el.closest && el.closest("#side-view-title, [id*=side]")) return "Fermer le panneau latéral";
    var classes = (svg.getAttribute("class") || "").split(/\s+/);
    for (var i = 0; i < classes.length; i++) {
      if (NAMES[classes[i]]) return NAMES[classes[i]];
    }
    return "";
  }
  function label(root) {
    if (document.documentElement.getAttribute("lang") !== "fr") document.documentElement.setAttribute("lang", "fr");
    var input = document.getElementById("chat-input");
    if (input && !input.getAttribute("aria-label")) {
      input.setAttribute("aria-label", "Message : texte d'un dossier, question ou commande (/aide)");
    }
    var areas = document.querySelectorAll("[role=dialog] textarea:not([aria-label])");
    for (var t = 0; t < areas.length; t++) areas[t].setAttribute("aria-label", "Commentaire (facultatif)");
    var hidden = document.querySelectorAll(".sr-only");
    for (var h = 0; h < hidden.length; h++) if ((hidden[h].textContent || "").trim() === "Close") hidden[h].textContent = "Fermer";
    // ARIA references to elements that are not in the page (closed Radix menus, dialogs without description)
    ["aria-controls", "aria-describedby", "aria-labelledby"].forEach(function (attr) {
      var refs = document.querySelectorAll("[" + attr + "]");
      for (var c = 0; c < refs.length; c++) {
        var ids = (refs[c].getAttribute(attr) || "").split(/\s+/).filter(Boolean);
        if (ids.some(function (id) { return !document.getElementById(id); })) refs[c].removeAttribute(attr);
      }
    });
    // lists whose items are not <li> (the history sidebar): declare the roles explicitly
    var lists = document.querySelectorAll("ul, ol");
    for (var l = 0; l < lists.length; l++) {
      var kids = lists[l].children, odd = false, roled = false;
      for (var k = 0; k < kids.length; k++) {
        if (!/^(LI|SCRIPT|TEMPLATE)$/.test(kids[k].tagName)) odd = true;
        var r = kids[k].getAttribute("role");
        if (r && r !== "listitem") roled = true;
      }
      if (roled) { lists[l].setAttribute("role", "none"); continue; }  // e.g. the notifications (role=status)
      if (!odd) continue;
      lists[l].setAttribute("role", "list");
      for (var m = 0; m < kids.length; m++) if (kids[m].tagName !== "LI") kids[m].setAttribute("role", "listitem");
    }
    var buttons = (root || document).querySelectorAll("button, [role=button], a");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      if ((b.textContent || "").trim() || b.getAttribute("aria-label") || b.getAttribute("aria-labelledby") || b.getAttribute("title")) continue;
      var name = nameOf(b);
      if (name) b.setAttribute("aria-label", name);
    }
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; label(document); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { label(document); });
  setInterval(function () { label(document); }, 1000);  // attributes React changed without adding nodes
})();
