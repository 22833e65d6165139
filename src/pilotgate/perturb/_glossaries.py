"""Small bilingual glossaries we wrote for code-switching and template translations.

One row per English word or phrase: English | Spanish | French | German | Hindi in
Latin script (Hinglish). They cover everyday request vocabulary and the banking terms
of the demo feature; they are deliberately small: the point is realistic mixing, not
translation quality.
"""

from __future__ import annotations

LANGUAGES = ("es", "fr", "de", "hi")
LANGUAGE_NAMES = {"es": "Spanish", "fr": "French", "de": "German", "hi": "Hindi (Latin script)"}

_ROWS = """
account|cuenta|compte|Konto|khata
money|dinero|argent|Geld|paisa
card|tarjeta|carte|Karte|card
bank|banco|banque|Bank|bank
balance|saldo|solde|Kontostand|balance
payment|pago|paiement|Zahlung|bhugtan
transfer|transferencia|virement|Überweisung|transfer
loan|préstamo|prêt|Kredit|loan
fee|comisión|frais|Gebühr|shulk
refund|reembolso|remboursement|Rückerstattung|refund
password|contraseña|mot de passe|Passwort|password
help|ayuda|aide|Hilfe|madad
please|por favor|s'il vous plaît|bitte|please yaar
thanks|gracias|merci|danke|shukriya
thank you|gracias|merci|danke schön|dhanyavaad
today|hoy|aujourd'hui|heute|aaj
tomorrow|mañana|demain|morgen|kal
yesterday|ayer|hier|gestern|kal
now|ahora|maintenant|jetzt|abhi
why|por qué|pourquoi|warum|kyun
how|cómo|comment|wie|kaise
what|qué|quoi|was|kya
where|dónde|où|wo|kahan
when|cuándo|quand|wann|kab
my|mi|mon|mein|mera
your|tu|votre|Ihr|aapka
is|es|est|ist|hai
not|no|pas|nicht|nahi
yes|sí|oui|ja|haan
no|no|non|nein|nahi
and|y|et|und|aur
or|o|ou|oder|ya
with|con|avec|mit|ke saath
without|sin|sans|ohne|ke bina
for|para|pour|für|ke liye
from|de|de|von|se
to|a|à|zu|ko
can|puedo|peux|kann|sakta
need|necesito|besoin|brauche|chahiye
want|quiero|veux|will|chahta
pay|pagar|payer|bezahlen|pay karna
send|enviar|envoyer|senden|bhejna
open|abrir|ouvrir|öffnen|kholna
close|cerrar|fermer|schließen|band karna
change|cambiar|changer|ändern|badalna
cancel|cancelar|annuler|stornieren|cancel karna
block|bloquear|bloquer|sperren|block karna
lost|perdido|perdu|verloren|kho gaya
stolen|robado|volé|gestohlen|chori ho gaya
new|nuevo|nouveau|neu|naya
old|viejo|ancien|alt|purana
problem|problema|problème|Problem|problem
question|pregunta|question|Frage|sawaal
phone|teléfono|téléphone|Telefon|phone
address|dirección|adresse|Adresse|pata
name|nombre|nom|Name|naam
number|número|numéro|Nummer|number
month|mes|mois|Monat|mahina
week|semana|semaine|Woche|hafta
day|día|jour|Tag|din
time|tiempo|temps|Zeit|samay
again|otra vez|encore|wieder|phir se
still|todavía|toujours|immer noch|abhi bhi
only|solo|seulement|nur|sirf
very|muy|très|sehr|bahut
urgent|urgente|urgent|dringend|urgent
quickly|rápido|vite|schnell|jaldi
wrong|incorrecto|faux|falsch|galat
right|correcto|correct|richtig|sahi
work|funciona|marche|funktioniert|kaam karta
working|funcionando|fonctionne|funktioniert|chal raha
received|recibido|reçu|erhalten|mila
charged|cobrado|débité|belastet|charge hua
order|pedido|commande|Bestellung|order
delivery|entrega|livraison|Lieferung|delivery
price|precio|prix|Preis|daam
cheap|barato|pas cher|billig|sasta
expensive|caro|cher|teuer|mehenga
friend|amigo|ami|Freund|dost
family|familia|famille|Familie|parivaar
house|casa|maison|Haus|ghar
the|el|le|der|
a|un|un|ein|ek
"""


def _build() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for line in _ROWS.strip().splitlines():
        en, *tr = line.split("|")
        for lang, word in zip(LANGUAGES, tr, strict=True):
            if word:
                out[lang][en] = word
    return out


#: language code -> {English word/phrase (lower case): translation}.
GLOSSARIES: dict[str, dict[str, str]] = _build()

#: Content words only (no articles/pronouns): what code-switching swaps first.
_FUNCTION_WORDS = {"the", "a", "is", "and", "or", "to", "from", "for", "my", "your", "with"}
CODE_SWITCH: dict[str, dict[str, str]] = {
    lang: {k: v for k, v in table.items() if k not in _FUNCTION_WORDS and k != v.lower()}
    for lang, table in GLOSSARIES.items()
}

#: Tags a bilingual speaker drops in when no glossary word is in the text.
SWITCH_TAGS: dict[str, list[str]] = {
    "es": [", por favor", " ¿vale?", ", gracias", " ¡urgente!"],
    "fr": [", s'il vous plaît", ", merci", " c'est urgent", " svp"],
    "de": [", bitte", ", danke", " ganz dringend", " oder?"],
    "hi": [" yaar", ", jaldi batao", " please bhai", ", kripya"],
}

#: (English opening, regex group name) -> per-language frame with {x} for the rest.
TEMPLATES: list[tuple[str, dict[str, str]]] = [
    (
        r"how (?:do|can) i",
        {
            "es": "¿Cómo puedo {x}?",
            "fr": "Comment puis-je {x} ?",
            "de": "Wie kann ich {x}?",
            "hi": "Main {x} kaise karun?",
        },
    ),
    (
        r"(?:can|could) you(?: please)?",
        {
            "es": "¿Puedes {x}?",
            "fr": "Pouvez-vous {x} ?",
            "de": "Können Sie {x}?",
            "hi": "Kya aap {x} kar sakte hain?",
        },
    ),
    (
        r"what(?: is|'s)",
        {
            "es": "¿Qué es {x}?",
            "fr": "Qu'est-ce que {x} ?",
            "de": "Was ist {x}?",
            "hi": "{x} kya hai?",
        },
    ),
    (
        r"i (?:want|would like|'d like) to",
        {
            "es": "Quiero {x}.",
            "fr": "Je veux {x}.",
            "de": "Ich möchte {x}.",
            "hi": "Mujhe {x} hai.",
        },
    ),
    (
        r"i need(?: to)?",
        {
            "es": "Necesito {x}.",
            "fr": "J'ai besoin de {x}.",
            "de": "Ich brauche {x}.",
            "hi": "Mujhe {x} chahiye.",
        },
    ),
    (
        r"why(?: is| does| did| do)?",
        {"es": "¿Por qué {x}?", "fr": "Pourquoi {x} ?", "de": "Warum {x}?", "hi": "{x} kyun?"},
    ),
    (
        r"where(?: is|'s| can i)?",
        {
            "es": "¿Dónde está {x}?",
            "fr": "Où est {x} ?",
            "de": "Wo ist {x}?",
            "hi": "{x} kahan hai?",
        },
    ),
    (
        r"when(?: will| is| does| do)?",
        {"es": "¿Cuándo {x}?", "fr": "Quand {x} ?", "de": "Wann {x}?", "hi": "{x} kab?"},
    ),
    (
        r"please",
        {
            "es": "Por favor, {x}.",
            "fr": "S'il vous plaît, {x}.",
            "de": "Bitte {x}.",
            "hi": "Kripya {x}.",
        },
    ),
    (
        r"my",
        {"es": "Mi {x}.", "fr": "Mon {x}.", "de": "Mein {x}.", "hi": "Mera {x}."},
    ),
]
FALLBACK_FRAMES: dict[str, str] = {
    "es": "Tengo una pregunta: {x}",
    "fr": "J'ai une question : {x}",
    "de": "Ich habe eine Frage: {x}",
    "hi": "Mera ek sawaal hai: {x}",
}
