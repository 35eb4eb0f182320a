"""Sample texts a scorer reads or cannot read, shared by the scorer and sentiment tests."""

from __future__ import annotations

#: Comments in French, German and Spanish with no English lexicon word.
FOREIGN = [
    "Le colis est arrivé mardi, très bien",
    "Je n'ai toujours pas reçu mon remboursement",
    "On a reçu le colis",
    "Das Paket ist nicht angekommen, sehr schlecht",
    "Ich warte seit zwei Wochen auf mein Geld",
    "No funciona la aplicación",
]
#: Only emoji, numbers, an order number or punctuation.
SYMBOLS = ["👍👍", "😡", "12345", "3.50", "#AB-40213", "!!!"]
#: English without a lexicon word: read, as neutral.
NEUTRAL_ENGLISH = [
    "The parcel arrived on Tuesday",
    "Where is my order?",
    "cannot reset password",
    "ok",
    "Refund still not received after two weeks",
    "Parcel arrived",
    "Delivered Tuesday",
    "still waiting",
    "REFUND!!",
]
#: English with lexicon words.
LEXICON_ENGLISH = ["great, thanks", "terrible, awful", "not helpful", "very good"]
