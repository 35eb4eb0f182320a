"""Short built-in stop-word lists (function words only), written for cxmodel.

The lists are deliberately small: pronouns, articles, prepositions, conjunctions, auxiliaries
and a few fillers. They are normalised with :func:`cxmodel.text.normalize` when loaded, so a
list may be written with any letter variant.
"""

from __future__ import annotations

__all__ = ["RAW_STOP_WORDS"]

_ENGLISH = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves im ive dont didnt doesnt isnt wasnt
cant couldnt wont also get got would us one
"""

# Persian: common prepositions, conjunctions, pronouns, copulas and auxiliaries.
_PERSIAN = """
و در به از که این آن را با برای تا یا هم اما ولی اگر چون چه است هست نیست بود بودم بودند شد
شده شود می نمی من تو او ما شما ایشان آنها اینها خود یک دیگر هر همه بر روی پس پیش بین نیز
کرد کرده کنم کند کنید کردم باید دارم دارد داریم ها های ای هیچ چند خیلی فقط حتی بسیار
"""

# Arabic: common particles, prepositions, pronouns and auxiliaries.
_ARABIC = """
و في من إلى الى على عن مع أن إن ان لا لم لن ما هذا هذه ذلك تلك هو هي هم أنا انا نحن أنت انت
أنتم كان كانت يكون قد كل بعض ثم أو او بل لكن التي الذي الذين هناك هنا عند حتى إذا اذا كما
غير بين فقط جدا تم ب ل ف يا أي اي منذ لقد
"""

RAW_STOP_WORDS: dict[str, str] = {"en": _ENGLISH, "fa": _PERSIAN, "ar": _ARABIC}
