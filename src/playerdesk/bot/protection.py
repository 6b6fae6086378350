"""Player protection first: does a message show a responsible-gambling risk?

Two parts, combined:

- curated patterns for each signal of issue 7, in every supported language, matched on
  the normalised text (casefolded, no diacritics: "odegrać" and "odegrac" are one), so a
  hit names its signal and the words that fired;
- a linear classifier (`RiskClassifier`, trained with the intent model on the shipped
  data) that catches what the patterns miss ("my wife thinks that money is in our
  savings"); it fires only above a high threshold, so it adds recall, not false alarms,
  and its evidence is the words that weighed most towards the risk.

The patterns run for all languages at once: players mix languages, and a Polish phrase
in a message lingua calls English must still be seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from playerdesk.bot.features import CompiledLogistic, TextFeatures
from playerdesk.bot.text import MappedText, mapped


class RiskSignal(StrEnum):
    CHASING_LOSSES = "chasing_losses"  # "need to win it back"
    MONEY_AT_RISK = "money_at_risk"  # borrowed, loans, rent, bills, savings, last money
    DISTRESS = "distress"  # desperate, can't sleep, ruined, hopeless
    LOSS_OF_CONTROL = "loss_of_control"  # can't stop, addicted, wants to stop
    PROTECTION_REQUEST = "protection_request"  # limits, cooling-off, self-exclusion
    CANCEL_WITHDRAWAL = "cancel_withdrawal"  # reverse a withdrawal to keep playing
    FAMILY_HARM = "family_harm"  # hiding it from family, family member gambling
    CLASSIFIER = "classifier"  # no pattern, the classifier's score


@dataclass(frozen=True, slots=True)
class Evidence:
    """What fired, as a span of the text the player wrote."""

    signal: RiskSignal
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RiskResult:
    flagged: bool
    score: float  # the classifier's probability (0 without a classifier)
    signals: tuple[RiskSignal, ...]
    evidence: tuple[Evidence, ...]


# Patterns -----------------------------------------------------------------------------------
#
# Written for the normalised text: lowercase ASCII letters for Polish, Swedish, German and
# Spanish words too ("wypłatę" -> "wyplate", "förluster" -> "forluster", "zurück" ->
# "zuruck", "pérdidas" -> "perdidas"). `\w*` absorbs inflection endings.

_ANY = r"(?:\W+\w+){0,4}?\W+"  # up to four words in between

_CHASING = [
    # en
    r"\bwin(?:ning)?\b" + _ANY + r"?back\b",
    r"\bwin\w* (?:it|them|that|this|my money|everything|something|some) (?:all )?back\b",
    r"\b(?:win|get|gets|getting|recover|recoup)\w*\b(?:\W+\w+){0,3}?\W+"
    r"(?:my |the |all |those |these |tonight'?s |today'?s |yesterday'?s )?loss(?:es)?\b",
    r"\b(?:win|get|recover|recoup)\w*(?: \w+){0,3}? what i(?:'ve| have)? lost\b",
    r"\bchas\w* (?:my |the |tonight'?s |today'?s )?loss\w*",
    r"\b(?:get|break) even\b",
    r"\buntil i'?m even\b",
    r"\bmake up for (?:my |the )?loss\w*",
    r"\bback what i (?:lost|spent)\b",
    r"\bback (?:to )?(?:zero|even)\b",
    r"\bone (?:more|last) (?:try|spin|chance|go)\b",
    r"\bmy (?:last|only) chance\b",
    # pl
    r"\bodegra\w*",
    r"\bodku[cj]\w*",
    r"\bodkuje\w*",
    r"\bodrobi[ct]\w*",
    r"\bodrobie\b",
    r"\bodrobil\w*",
    r"\bodzyska\w* (?:\w+ ){0,3}?(?:strat|przegr|stracon|kas|pieniad)\w*",
    r"\bwygra\w* z powrotem\b",
    r"\bwyjs\w* na zero\b",
    r"\bzagra\w* jeszcze raz\b",
    r"\bostatni\w* szans\w*",
    # sv
    r"\bvinna? tillbaka\b",
    r"\bvann tillbaka\b",
    r"\bvunnit tillbaka\b",
    r"\bvinn\w* igen (?:det|allt|pengarna|forlust\w*)",
    r"\bjaga\w*(?: \w+){0,2} forlust\w*",
    r"\bjaga\w* (?:tillbaka|ikapp)\b",
    r"\bfa tillbaka (?:det jag|forlust\w*|pengarna jag forlor\w*)",
    r"\bplus minus noll\b",
    r"\bsista chans\w*",
    # de
    r"\bzuruck\w*gewinn\w*",
    r"\bzuruck ?zu ?gewinn\w*",
    r"\bverlust\w* (?:wieder )?(?:reinholen|ausgleichen|zuruckholen|wettmachen)",
    r"\bletzte chance\b",
    # es
    r"\brecuper\w* (?:\w+ ){0,2}?(?:lo que perdi|mis perdidas|lo perdido)\b",
    r"\bganar\w* (?:\w+ ){0,2}?(?:de nuevo|otra vez)\b",
    r"\bultima oportunidad\b",
]

_MONEY_AT_RISK = [
    # en
    r"\bborrow\w*",
    r"\blend me\b",
    r"\b(?:payday |quick |bank |car |student |personal )?loans?\b",
    r"\boverdraft\b",
    r"\b(?:maxed|max(?:ed)? out)\b",
    r"\bin debt\b",
    r"\bdebts?\b",
    r"\bi owe\b",
    r"\bowe (?:to )?(?:someone|somebody|a friend|my|him|her|them)\b",
    r"\b(?:rent|mortgage|bill|bills|electricity|food|grocery|groceries|house|household)"
    r" money\b",
    r"\bmoney (?:\w+ ){0,3}?(?:for|meant for|to pay) (?:the |my |our )?(?:rent|mortgage|bills?"
    r"|food|groceries|kids|children)\b",
    r"\b(?:pay|cover) (?:my |the )?(?:rent|mortgage|bills)\b",
    r"\b(?:whole|entire|all (?:my|our)|our) (?:salary|paycheck|paycheque|wage|wages|savings)\b",
    r"\b(?:lost|spent|gambled|used|took|deposited|put in|blew)(?: \w+){0,2} savings\b",
    r"\blast (?:money|euros?|pounds?|kronor|zloty)\b",
    r"\bmy last \d+ ?(?:euros?|eur|kr|sek|zl|pln|pounds?|dollars?)\b",
    r"\bmoney (?:that )?(?:wasn'?t|was not|isn'?t) mine\b",
    r"\bcash box\b",
    # pl
    r"\bpozycz\w*",
    r"\bpozyczk\w*",
    r"\bchwilowk\w*",
    r"\b(?:wzia\w*|bior\w*|brac) (?:\w+ )?kredyt\w*",
    r"\bz kredytu\b",
    r"\bkredyt\w* gotowkow\w*",
    r"\bdlug(?:ow|ami|ach|iem)\b",
    r"\bmam dlugi\b",
    r"\bsplac\w* dlug\w*",
    r"\bzadluz\w*",
    r"\bdebet\w*",
    r"\bna (?:czynsz|rachunki|jedzenie|leki|oplaty|rate|raty)\b",
    r"\bczynsz\w*",
    r"\b(?:cala|cale|ostatni\w*) (?:pensj\w*|wyplat\w*|pieniadz\w*|kas\w*|oszczednosc\w*)",
    r"\boszczednosc\w*",
    r"\bodlozon\w*",
    r"\bnie moje pieniadze\b",
    # sv
    r"\blan(?:a|ade|at|ar|en|et)?\b(?! (?:mig|dig|oss) (?:ett|en) (?:hand|stund))",
    r"\bsms-?lan\w*",
    r"\bsnabblan\w*",
    r"\bkredit(?:en)?\b",
    r"\bkontokredit\w*",
    r"\bskuld\w*",
    r"\bskyldig\b",
    r"\bkronofogden\b",
    r"\bhyr(?:a|an|espengar\w*)\b",
    r"\bbolanet\b",
    r"\b(?:betala|till) (?:\w+ )?(?:el|hyres)?rakning\w*",
    r"\b(?:for|pengar\w* till|till) rakningarna\b",
    r"\bhela (?:lonen|sparkontot|buffert\w*)\b",
    r"\bsparpengar\w*",
    r"\b(?:mitt|vart|hela|fran) sparkonto\w*",
    r"\bsista pengar\w*",
    r"\bmatkass\w*",
    r"\bcsn-?pengar\w*",
    r"\bpengar (?:som )?(?:inte var mina|jag inte har)\b",
    # de
    r"\b(?:ge|aus)?lieh\w*",
    r"\bgeliehen\w*",
    r"\b(?:einen|den|meinen) kredit\b",
    r"\bkredit (?:aufgenommen|genommen)\b",
    r"\bdarlehen\b",
    r"\bschulden\w*",
    r"\bdispo\w*",
    r"\bmiete\w*",
    r"\brechnungen\b",
    r"\b(?:ganzes?|mein(?:en)?) (?:gehalt|lohn|erspartes)\b",
    r"\berspart\w*",
    r"\bletztes geld\b",
    # es
    r"\bprestad\w*",
    r"\bprestamo\w*",
    r"\bpedi\w* prestado\b",
    r"\bdeudas?\b",
    r"\bendeudad\w*",
    r"\b(?:dinero|pagar) (?:del |el )?alquiler\b",
    r"\bfacturas\b",
    r"\bhipoteca\b",
    r"\bahorros\b",
    r"\b(?:todo )?(?:mi|el) (?:sueldo|salario|nomina)\b",
    r"\bultimo dinero\b",
]

_DISTRESS = [
    # en
    r"\bdesperat\w*",
    r"\bcan'?t (?:sleep|take (?:it|this) anymore|go on|cope)\b",
    r"\bcannot (?:sleep|cope|go on)\b",
    r"\b(?:ruined|ruining) (?:my|our) (?:life|lives|family|marriage)\b",
    r"\bi'?m ruined\b",
    r"\blost (?:it )?(?:all|everything)\b",
    r"\b(?:all|everything)(?:'s| is) gone\b",
    r"\bhate myself\b",
    r"\bashamed\b",
    r"\bpanick?\w*",
    r"\b(?:don'?t|do not) want to (?:live|be here)\b",
    r"\b(?:end|ending) it all\b",
    r"\bkill myself\b",
    r"\bsuicid\w*",
    r"\bno way out\b",
    r"\bdoesn'?t matter anymore\b",
    r"\bdevastat\w*",
    r"\bhopeless\b",
    # pl
    r"\bzdesperowan\w*",
    r"\bdesperac\w*",
    r"\bnie (?:spie|moge spac|moge zasnac)\b",
    r"\bnie chce mi sie zyc\b",
    r"\bnie chce (?:juz )?zyc\b",
    r"\bzabic sie\b",
    r"\bsamobój\w*|\bsamoboj\w*",
    r"\bwstydz\w*",
    r"\bwszystko (?:stracil\w*|przegral\w*|przegrane)\b",
    r"\b(?:stracil\w*|przegral\w*) wszystko\b",
    r"\bzniszczy\w* (?:mi )?zycie\b",
    r"\bwykancza\w*",
    r"\bglupot\w*",
    r"\bnie daje rady\b",
    # sv
    r"\bdesperat\b",
    r"\bkan inte sova\b",
    r"\borkar inte\b(?! med)",
    r"\b(?:forlorat|forlorade) allt\b",
    r"\ballt ar (?:ju |anda )?borta\b",
    r"\bhatar mig sjalv\b",
    r"\bskammas\b|\bskams pa mig\b",
    r"\bpanik\w*",
    r"\bvill inte leva\b",
    r"\bta livet av\b",
    r"\bforstor\w* mitt liv\b",
    # de
    r"\bverzweifel\w*",
    r"\bkann nicht (?:mehr )?schlafen\b",
    r"\balles verloren\b",
    r"\bruiniert\b",
    r"\bhasse mich\b",
    r"\bschame mich\b",
    r"\bwill nicht mehr leben\b",
    r"\bhalte es nicht mehr aus\b",
    # es
    r"\bdesesperad\w*",
    r"\bno puedo dormir\b",
    r"\b(?:lo )?perdi todo\b",
    r"\barruinad\w*",
    r"\bme odio\b",
    r"\b(?:me da|tengo|siento) verguenza\b",
    r"\bno quiero vivir\b",
    r"\bsuicid\w*",
]

_LOSS_OF_CONTROL = [
    # en
    r"\bcan'?t (?:stop|help myself|say no|resist|control)\b",
    r"\bcannot (?:stop|control)\b",
    r"\bunable to stop\b",
    r"\b(?:need|want|have|trying) to (?:stop|quit) (?:playing|gambling|betting)\b",
    r"\bhelp (?:me )?(?:to )?(?:stop|quit)\b",
    r"\bstop me\b",
    r"\baddict\w*",
    r"\bhooked\b",
    r"\bcompulsive\b",
    r"\b(?:gambling|betting) (?:problem|habit|issue)",
    r"\bproblem with (?:my )?(?:gambling|betting|playing)\b",
    r"\bhelp with (?:my )?(?:gambling|betting|playing)\b",
    r"\b(?:losing|lost|out of) control\b",
    r"\b(?:gamble|gambling|play|playing|spending|spent|lost|losing) (?:\w+ )?(?:way )?too much\b",
    r"\bmore than i can afford\b",
    r"\brelaps\w*",
    r"\btempt\w*",
    r"\bdon'?t trust myself\b",
    r"\b(?:gambl|play)\w* (?:all night|every night|for \d+ hours|until \d)",
    r"\bgambled (?:away|my)\b",
    r"\bdon'?t let me (?:play|deposit|gamble)\b",
    r"\b(?:my|of my|about my|with my|hiding my) (?:gambling|betting)\b",
    r"\bpromised (?:myself|my \w+)\b",
    r"\bkeep (?:playing|depositing|gambling) (?:until|even though|and)\b",
    r"\b(?:gambl|play)\w* it (?:again|away|all)\b",
    r"\b(?:quit|stop) for good\b",
    r"\basked (?:for|them for|you for) (?:a |an? \w+ )?(?:limit|break|block)\b",
    r"\blimit increase\b",
    r"\bstricter\b",
    r"\bcan'?t raise them\b",
    r"\bblock gambling\b",
    r"\buntil payday\b",
    r"\blost (?:almost|nearly) (?:everything|all)\b",
    # pl
    r"\bnie (?:umiem|moge|potrafie) (?:przestac|sie zatrzymac|odmowic|odejsc)\b",
    r"\b(?:przestac|skonczyc z) (?:grac|graniem|hazardem)\b",
    r"\bskonczyc z tym\b",
    r"\buzalezni\w*",
    r"\bhazardzist\w*",
    r"\bproblem z (?:hazardem|graniem)\b",
    r"\bhazard\w* (?:mnie|mi)\b",
    r"\b(?:trace|stracil\w*|nie mam) kontrol\w*",
    r"\bnie kontroluje\b",
    r"\bgram za duzo\b",
    r"\bza duzo (?:gram|gralem|gralam|przegr\w*|wplac\w*)",
    r"\bwiecej niz moge\b",
    r"\bpokus\w*",
    r"\bkusi\b",
    r"\bnie ufam sobie\b",
    r"\b(?:przez|z powodu|mojego|moim|moj) hazard\w*",
    r"\bmam problem\b",
    r"\bprzegrywam\b",
    r"\bobiecuj\w* sobie\b",
    r"\bznowu gram\b",
    r"\bnie mam (?:juz )?(?:nic swojego|wlasnych pieniedzy)\b",
    r"\bswoje (?:juz )?przegral\w*",
    r"\bprzepu(?:szcz|sc)\w*",
    r"\bodciac sie\b",
    r"\bnie moglem? wplacac\b",
    r"\bprosil\w* o (?:limit|przerw|blokad)\w*",
    r"\bw amoku\b",
    # sv
    r"\bkan inte (?:sluta|lata bli|sta emot|saga nej|kontrollera)\b",
    r"\b(?:maste|vill|behover hjalp att|hjalp mig) sluta\b",
    r"\bsluta spela\b",
    r"\bspelberoend\w*",
    r"\bspelmissbruk\w*",
    r"\bspelproblem\w*",
    r"\btappa\w* kontroll\w*",
    r"\b(?:spela|spelar|spelat|forlorat|spenderat) (?:\w+ )?(?:alldeles )?for mycket\b",
    r"\baterfall\b",
    r"\blitar inte pa mig sjalv\b",
    r"\bfrestels\w*",
    r"\bspelat bort\b|\bspela bort\b|\bspelar bort\b",
    r"\b(?:mitt|pga mitt|om mitt|av mitt|med mitt) spelande\b",
    r"\binte hade kontroll\b",
    r"\bbad om (?:en )?(?:grans|paus|sparr)\w*",
    r"\bmaxat\b",
    r"\bkassan pa jobbet\b",
    r"\bmin enda chans\b",
    r"\bfortsatt\w* spela\b",
    r"\bkomma? runt (?:det|spelpaus|sparren)\b",
    # de
    r"\bkann nicht (?:aufhoren|widerstehen|nein sagen)\b",
    r"\b(?:will|muss|mochte) (?:mit dem spielen )?aufhoren\b",
    r"\bspielsucht\w*",
    r"\bsuchtig\b",
    r"\bspielsuchtig\w*",
    r"\bkontrolle verlor\w*",
    r"\b(?:spiele|gespielt|verloren) zu viel\b",
    r"\bruckfall\w*",
    # es
    r"\bno puedo (?:parar|dejar de jugar|controlar\w*)\b",
    r"\b(?:quiero|necesito) dejar de jugar\b",
    r"\badicci\w*",
    r"\badict\w*",
    r"\bludopat\w*",
    r"\bperdi\w* el control\b",
    r"\bjuego demasiado\b",
    r"\brecaid\w*",
]

_LIMIT_NOUN = (
    r"(?:deposit|loss|time|session|spending|wager(?:ing)?|bet(?:ting)?|playing|daily|weekly"
    r"|monthly)"
)
_PROTECTION = [
    # en
    r"\bself[- ]?exclu\w*",
    r"\bexclude me\b",
    r"\bexclude myself\b",
    r"\bcool(?:ing)?[- ]?off\b",
    r"\b(?:a|the) time[- ]?out\b",
    r"\breality check\b",
    r"\bsession reminder\b",
    r"\b(?:spelpaus|gamstop|gamcare|gamblers anonymous|begambleaware|stodlinjen)\b",
    r"\b(?:set|put|add|lower|reduce|decrease|remove|increase|raise|lift|change|cancel|shorten)"
    r" (?:me |on )?(?:up )?(?:a |my |the |an? \w+ )?(?:\w+ )?" + _LIMIT_NOUN + r" (?:limit|cap)s?",
    r"\b(?:remove|increase|raise|lift|lower|reduce) my limits?\b",
    r"\b" + _LIMIT_NOUN + r" (?:limit|cap) of \d",
    r"\blimit (?:my|on my) (?:deposits|spending|playing|losses|time)\b",
    r"\b(?:need|want|take|taking|have|put\w*(?: \w+){0,2} on) a (?:short |long )?break\b"
    r"(?! from (?:slots|blackjack|roulette|live))",
    r"\bblock (?:me|my account)\b",
    r"\bstop me from\b",
    # pl
    r"\bsamowyklucz\w*",
    r"\bwyklucz\w* (?:sie|mnie|na)\b",
    r"\bwykluczeni\w*",
    r"\bprzerw\w* (?:od|na) (?:grania|gry|kasyna|hazardu|\d|tydzien|miesiac|rok)",
    r"\b(?:chce|potrzebuje|dac|daj|dajcie|zrob\w*)(?: \w+){0,2} przerw\w*",
    r"\b(?:ustaw\w*|obniz\w*|zmniejsz\w*|podni\w*|zwieksz\w*|zdejm\w*|wylacz\w*|usun\w*"
    r"|cofn\w*)(?: \w+){0,3} limit\w*",
    r"\blimit\w* (?:wplat|depozyt\w*|strat|czasu|sesji)\w*(?: \w+){0,2} (?:na )?\d",
    r"\bzablokuj\w* (?:mi |mnie|moje|sobie)\w*",
    r"\bzablokowa\w* (?:sie|sobie|konto|anulowanie)\b",
    r"\bwykluczon\w*",
    r"\bprzypomnieni\w* o czasie\b",
    r"\blimit\w* czasu\b",
    r"\bblokad\w* (?:konta|na|grania|hazardu|wplat)\b",
    r"\bpotrzebuje blokady\b",
    r"\bcooling off\b",
    # sv
    r"\bsjalvavstang\w*",
    r"\bstang\w* av mig\b",
    r"\bstanga av mig\b",
    r"\bavstangd\b",
    r"\bspar(?:r|ra|rar|rad)\w* (?:mig|mitt konto|kontot|honom|henne)\b",
    r"\b(?:ta|tar|behover|vill ha|lagg\w*(?: \w+){0,2} pa) (?:en )?(?:spel)?paus\w*",
    r"\bpaus fran (?:spel\w*|casino\w*)",
    r"\bpaus (?:pa|i) (?:en|ett|\d+)\b",
    r"\bspelpaus\b",
    r"\b(?:satta|satt|sank\w*|hoj\w*|ta bort|andra|tak pa)(?: \w+){0,3}"
    r" (?:(?!uttag)\w*grans\w*|tak)\b",
    r"\b(?:forlust|tids|vecko|dags|manads)grans\w*",
    r"\bverklighetskontroll\w*",
    r"\bpaminnelse\w* (?:var|varje|efter)\b",
    r"\bhindra mig\b",
    r"\b(?:la|lagt|lade) in en paus\b",
    # de
    r"\bselbstausschlu\w*",
    r"\bsperr\w* (?:mich|mein konto)\b",
    r"\b(?:mein\w*|ein\w*) (?:einzahlungs|verlust|zeit|einsatz)limit\w*",
    r"\blimit\w* (?:setzen|senken|erhohen|entfernen|festlegen)\b",
    r"\bpause (?:vom|von) (?:spielen|glucksspiel)\b",
    r"\bauszeit\b",
    r"\boasis\b",
    # es
    r"\bautoexclu\w*",
    r"\bexclu\w* (?:me|mi cuenta)\b",
    r"\blimite (?:de )?(?:deposito|perdidas|tiempo|apuesta)\w*",
    r"\b(?:poner|establecer|bajar|reducir|subir|aumentar|quitar)\w*(?: \w+){0,2} limite\w*",
    r"\bbloque\w* (?:mi cuenta|me)\b",
    r"\btomar(?:me)? un descanso\b",
    r"\b(?:una|tomar una) pausa\b",
]

_CANCEL_WITHDRAWAL = [
    # en: reversing is always about playing the money again
    r"\b(?:reverse|undo|revert)\w* (?:\w+ ){0,2}?(?:withdraw\w*|cash ?out|payout)\b",
    r"\b(?:withdraw\w*|cash ?out|payout)\w* back (?:in|into|on) (?:the |my )?"
    r"(?:casino|balance|account|game)\b",
    r"\bput (?:my |the )?(?:withdraw\w*|cash ?out|payout) back\b",
    # pl
    r"\bcofn\w* (?:\w+ ){0,2}?wyplat\w*",
    r"\bodwroc\w* (?:\w+ ){0,2}?wyplat\w*",
    r"\bprzywroc\w* (?:\w+ ){0,3}?wyplat\w*",
    r"\bwyplat\w* (?:\w+ ){0,2}?(?:wrocila|wrocic) na saldo\b",
    r"\bzatrzyma\w* (?:ja|wyplate)\b(?:\W+\w+){0,6}?\W+zagra\w*",
    # sv
    r"\bangra\w* (?:\w+ ){0,2}?(?:uttag\w*|cash ?out\w*)",
    r"\blagg\w* tillbaka uttag\w*",
    r"\buttag\w* tillbaka (?:till|pa|i)\b",
    # de
    r"\bauszahlung\w* (?:\w+ ){0,2}?(?:ruckgangig|zuruckbuchen|stornieren)",
    # es
    r"\b(?:revertir|anular|deshacer) (?:\w+ ){0,2}?retiro\b",
]

# "Cancel my withdrawal" is a signal only with the wish to play the money.
_CANCEL = [
    r"\b(?:cancel|stop)\w* (?:\w+ ){0,3}?(?:withdraw\w*|cash ?out|payout)\b",
    r"\banul\w* (?:\w+ ){0,2}?(?:wyplat\w*|cashout\w*)",
    r"\bzatrzyma\w* (?:\w+ ){0,2}?wyplat\w*",
    r"\b(?:avbryt\w*|stoppa) (?:\w+ ){0,3}?uttag\w*",
    r"\bauszahlung\w* (?:\w+ ){0,2}?(?:stornieren|abbrechen|stoppen)",
    r"\b(?:stornier\w*|abbrech\w*) (?:\w+ ){0,3}?auszahlung\w*",
    r"\bcancel\w* (?:\w+ ){0,2}?retiro\b",
]
_PLAY_ON = [
    r"\b(?:keep|continue|go on|carry on) (?:on )?(?:playing|going|gambling|betting)\b",
    r"\bplay (?:it|them|with it|again|more|on|it all)\b",
    r"\b(?:try|spin) (?:one more|again)\b",
    r"\bback (?:in|into|to|on) (?:the |my )?(?:casino|balance|account|game)\b",
    r"\b(?:dalej|znow|jeszcze) gra\w*|\bgra\w* dalej\b",
    r"\bzagra\w*",
    r"\bdo gry\b",
    r"\b(?:fortsatt\w*|fortsatta) spela\b",
    r"\bspela (?:for|mer|vidare|igen|bort)\b",
    r"\bweiter ?spiel\w*",
    r"\bseguir jugando\b",
    r"\bjugar\w* (?:mas|otra vez)\b",
]

_FAMILY = [
    # en
    r"\b(?:wife|husband|partner|girlfriend|boyfriend|family|parents|mum|mom|dad|kids)"
    r" (?:doesn'?t|don'?t|does not|do not|can'?t|cannot|must not|won'?t|mustn'?t|would)"
    r" (?:ever )?(?:know|find out|see|be devastated)\b",
    r"\bbefore (?:my )?(?:wife|husband|partner|family) (?:finds? out|sees)\b",
    r"\b(?:without|before) (?:telling|asking) (?:my )?(?:wife|husband|partner|family|parents"
    r"|mum|mom|dad)\b",
    r"\blied to (?:my )?\w+",
    r"\bhide (?:\w+ ){0,4}?from (?:my )?(?:wife|husband|partner|family|parents)\b",
    r"\bmy (?:wife|husband|son|daughter|partner|brother|sister|father|mother) (?:\w+ ){0,2}?"
    r"gambl\w*",
    r"\bfamily (?:will|would) find out\b",
    # pl
    r"\b(?:zona|maz|rodzina|rodzice|dziewczyna|chlopak)\w* (?:\w+ ){0,2}?(?:nie moze|nie wie|"
    r"sie dowie|zobaczy|zorientuje)\w*",
    r"\bukry\w* (?:\w+ ){0,3}?(?:przed|od) (?:zona|mezem|rodzin\w*|rodzicami)",
    r"\bco (?:powiem|mam powiedziec) (?:zonie|mezowi|rodzinie|rodzicom)\b",
    r"\b(?:moj maz|moja zona|moj syn|moja corka) (?:\w+ ){0,3}?(?:gra|przegr)\w*",
    r"\bnie wiedza o tym\b",
    # sv
    r"\b(?:fru|frun|min man|mannen|sambo|familjen|foraldrar\w*|flickvan|pojkvan)"
    r" (?:vet inte|far (?:aldrig )?veta|tror att)\b",
    r"\binnan jag beratt\w* for\b",
    r"\bljog for\b",
    r"\bdolj\w* (?:\w+ ){0,3}?for (?:min|mina)\b",
    r"\butan att (?:fraga|beratta)\b",
    r"\bmin (?:man|fru|son|dotter|sambo) spelar\b",
    # de
    r"\b(?:frau|mann|partner\w*|familie|eltern) (?:weiss|darf) (?:nichts|es nicht)\b",
    r"\bverheimlich\w*",
    # es
    r"\bmi (?:mujer|esposa|marido|familia|pareja) no (?:sabe|puede saber)\b",
    r"\bsin decir\w*(?: \w+){0,2} a mi\b",
]


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_SIGNAL_PATTERNS: tuple[tuple[RiskSignal, re.Pattern[str]], ...] = (
    (RiskSignal.CHASING_LOSSES, _compile(_CHASING)),
    (RiskSignal.MONEY_AT_RISK, _compile(_MONEY_AT_RISK)),
    (RiskSignal.DISTRESS, _compile(_DISTRESS)),
    (RiskSignal.LOSS_OF_CONTROL, _compile(_LOSS_OF_CONTROL)),
    (RiskSignal.PROTECTION_REQUEST, _compile(_PROTECTION)),
    (RiskSignal.CANCEL_WITHDRAWAL, _compile(_CANCEL_WITHDRAWAL)),
    (RiskSignal.FAMILY_HARM, _compile(_FAMILY)),
)
_CANCEL_PATTERN = _compile(_CANCEL)
_PLAY_ON_PATTERN = _compile(_PLAY_ON)

# Phrases that look like a signal and are not one: "I lost my password", "what is the
# deposit limit for Swish", "cancel my bonus". A hit inside one of these spans is ignored.
_HARMLESS = _compile(
    [
        r"\blost (?:my |the )?(?:password|phone|connection|access|wallet|card|email|code)\w*",
        r"\b(?:what|which|how much|how high|is there|are there)\b(?:\W+\w+){0,4}?\W+"
        r"(?:deposit|withdraw\w*|table|bet) (?:limit|cap)s?\b(?! of)(?! to)",
        r"\b(?:withdraw\w*|payout|table|betting) limits?\b",
        r"\bloan(?:s)? (?:calculator|rates?)\b",
        r"\b(?:student|bank) (?:card|account)\b",
        r"\bstracil\w* (?:polaczeni\w*|haslo|dostep|telefon)\b",
        r"\bforlorade (?:anslutning\w*|losenord\w*)\b",
        r"\bpaus(?:a|ar|ade)? (?:spelet|videon|streamen)\b",
        r"\bdebetow\w*",
        r"\bdebt collector\w*",
        r"\blimit\w* on (?:my |the |a )?(?:\w+ )?(?:card|bank|phone|screen)\b",
        r"\blimit\w* (?:transakc\w*|na karcie|karty|w (?:aplikacji )?banku)",
        r"\bw (?:aplikacji )?banku\b",
        r"\bprzerw\w* (?:w|od) prac\w*",
        r"\bde pantalla\b",
        r"\bspending limit on\b",
    ]
)
_MISTAKE = _compile(
    [
        r"\bby mistake\b",
        r"\bwrong (?:bank|account|card|method|amount|iban)\b",
        r"\bprzez pomylk\w*",
        r"\bpomyl\w*",
        r"\bzamiast\b",
        r"\bav misstag\b",
        r"\bfel (?:konto|kort|belopp|bank)\w*",
        r"\bversehentlich\b",
        r"\bfalsche\w* (?:iban|konto|betrag|karte)\b",
        r"\bpor error\b",
        r"\bequivoc\w*",
    ]
)


def _spans(pattern: re.Pattern[str], folded: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(folded) if match.end() > match.start()]


def _overlaps(span: tuple[int, int], harmless: Sequence[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in harmless)


def match_signals(text: str) -> list[Evidence]:
    """The pattern hits in `text`, each as a signal and a span of `text`."""
    source = mapped(text)
    folded = source.folded
    harmless = _spans(_HARMLESS, folded)
    found: list[Evidence] = []
    for signal, pattern in _SIGNAL_PATTERNS:
        for span in _spans(pattern, folded):
            if not _overlaps(span, harmless):
                found.append(_evidence(source, signal, span))
    cancels = _spans(_CANCEL_PATTERN, folded)
    plays = _spans(_PLAY_ON_PATTERN, folded)
    if not plays and _MISTAKE.search(folded):
        # "Cancel / undo the withdrawal I made by mistake": a correction, not a signal.
        found = [item for item in found if item.signal is not RiskSignal.CANCEL_WITHDRAWAL]
    if cancels and plays:
        for span in (cancels[0], plays[0]):
            found.append(_evidence(source, RiskSignal.CANCEL_WITHDRAWAL, span))
    found.sort(key=lambda item: (item.start, item.end))
    return found


def _evidence(source: MappedText, signal: RiskSignal, span: tuple[int, int]) -> Evidence:
    start, end = source.span(*span)
    return Evidence(signal=signal, start=start, end=end, text=source.original[start:end])


# The classifier ----------------------------------------------------------------------------

# Above this probability the classifier flags a message no pattern matched. Chosen on the
# training data's out-of-fold scores: patterns or classifier flag at most 2 % of the
# lines without risk (docs/BOT.md).
CLASSIFIER_THRESHOLD = 0.7
_EVIDENCE_TERMS = 3


class RiskClassifier:
    """A logistic regression over the shared text features (`bot/features.py`), trained
    on every line's `rg_risk`."""

    def __init__(self, features: TextFeatures, *, seed: int) -> None:
        self.features = features
        self.seed = seed
        self._model: CompiledLogistic | None = None

    def fit(self, matrix: Any, labels: Sequence[bool]) -> RiskClassifier:
        """Fits on the rows of `features.transform(texts)` and their labels."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=10.0, class_weight="balanced", max_iter=2000, random_state=self.seed
        )
        model.fit(matrix, [bool(label) for label in labels])
        self._model = CompiledLogistic(model, positive=True)
        return self

    def _compiled(self) -> CompiledLogistic:
        if self._model is None:
            raise RuntimeError("the risk classifier is not trained")
        return self._model

    def scores(self, texts: Sequence[str]) -> list[float]:
        matrix = self.features.transform(texts)
        return [self._compiled().probability(matrix.getrow(i)) for i in range(matrix.shape[0])]

    def score_row(self, row: Any) -> tuple[float, list[str]]:
        """The risk probability of one vectorised message and the word n-grams that pushed
        it up most."""
        model = self._compiled()
        word_count = self.features.word_count
        pushes = model.contributions(row)
        ranked: list[tuple[float, str]] = []
        for index, push in zip(row.indices, pushes, strict=True):
            if index < word_count and push > 0:
                term = self.features.word_terms[index]
                # Concept tokens are not in the text: words only.
                if "c_" not in term:
                    ranked.append((float(push), term))
        ranked.sort(reverse=True)
        return model.probability(row), [term for _, term in ranked[:_EVIDENCE_TERMS]]

    def score(self, text: str) -> tuple[float, list[str]]:
        return self.score_row(self.features.transform([text]))


def _term_evidence(text: str, terms: Sequence[str]) -> list[Evidence]:
    source = mapped(text)
    found: list[Evidence] = []
    for term in terms:
        pattern = re.compile(r"\b" + r"\W+".join(re.escape(word) for word in term.split()) + r"\b")
        match = pattern.search(source.folded)
        if match is not None:
            found.append(_evidence(source, RiskSignal.CLASSIFIER, match.span()))
    return found


class RiskDetector:
    """Patterns first; the classifier, when there is one, for what they miss."""

    def __init__(
        self,
        classifier: RiskClassifier | None = None,
        *,
        threshold: float = CLASSIFIER_THRESHOLD,
    ) -> None:
        self.classifier = classifier
        self.threshold = threshold

    def detect(self, text: str, *, row: Any = None) -> RiskResult:
        """`row`: the message already vectorised by the shared features, if it is."""
        evidence = match_signals(text)
        score = 0.0
        terms: list[str] = []
        if self.classifier is not None:
            if row is None:
                score, terms = self.classifier.score(text)
            else:
                score, terms = self.classifier.score_row(row)
        if not evidence and score >= self.threshold:
            evidence = _term_evidence(text, terms)
            if not evidence:
                # Only character n-grams weighed: the whole message is the evidence.
                evidence = [Evidence(RiskSignal.CLASSIFIER, 0, len(text), text)]
        signals = tuple(dict.fromkeys(item.signal for item in evidence))
        return RiskResult(
            flagged=bool(evidence), score=score, signals=signals, evidence=tuple(evidence)
        )


def evidence_json(result: RiskResult) -> list[dict[str, Any]]:
    return [
        {"signal": item.signal.value, "start": item.start, "end": item.end, "text": item.text}
        for item in result.evidence
    ]
