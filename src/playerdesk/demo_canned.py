"""The demo floor's canned replies and macros, in English, Polish and Swedish.

The casino is Starvale (see the demo back office and the demo casino page): the numbers in
these texts (review and payout times, document rules, wagering contributions) are its house
rules, the same as in the help centre's articles. Written to be sent as they are: agents'
and players' names come from placeholders, and the Polish texts avoid verb forms that depend
on whether the agent or the player is a woman or a man.

Created through the service, like everything in the demo, and only where the shortcut has
no version in that language yet, so that seeding can be repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

from playerdesk.domain.enums import TicketStatus
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import canned as canned_service


@dataclass(frozen=True, kw_only=True)
class _Text:
    title: str
    body: str


@dataclass(frozen=True, kw_only=True)
class _Reply:
    shortcut: str
    texts: dict[str, _Text]  # by language
    set_status: TicketStatus | None = None
    add_tags: tuple[str, ...] = ()
    to_payments: bool = False


REPLIES: tuple[_Reply, ...] = (
    _Reply(
        shortcut="greeting",
        texts={
            "en": _Text(
                title="Greeting",
                body="Hi {{player.first_name}}, thank you for contacting Starvale support! "
                "My name is {{agent.first_name}}. How can I help you today?",
            ),
            "pl": _Text(
                title="Powitanie",
                body="Cześć {{player.first_name}}, dziękujemy za kontakt z obsługą klienta "
                "Starvale! Mam na imię {{agent.first_name}}. W czym mogę pomóc?",
            ),
            "sv": _Text(
                title="Hälsning",
                body="Hej {{player.first_name}}, tack för att du kontaktar Starvales kundtjänst! "
                "Jag heter {{agent.first_name}}. Vad kan jag hjälpa dig med i dag?",
            ),
        },
    ),
    _Reply(
        shortcut="withdrawal-pending",
        texts={
            "en": _Text(
                title="Withdrawal: status of the latest one",
                body="Hi {{player.first_name}}, I have checked your account. Your withdrawal of "
                "{{withdrawal.last.amount}} to {{withdrawal.last.method}}, requested on "
                "{{withdrawal.last.date}}, has this status: {{withdrawal.last.status}}.\n\n"
                "We review withdrawals within 24 hours (within 4 hours for Gold and Platinum "
                "VIP members). After approval, Trustly and Swish payouts arrive within "
                "minutes, PayPal and Skrill within 24 hours, bank transfers in 1–3 business "
                "days and card payouts in 2–5 business days.",
            ),
            "pl": _Text(
                title="Wypłata: status ostatniej wypłaty",
                body="Cześć {{player.first_name}}, na Twoim koncie widzę wypłatę "
                "{{withdrawal.last.amount}} ({{withdrawal.last.method}}) zleconą "
                "{{withdrawal.last.date}}. Jej status: {{withdrawal.last.status}}.\n\n"
                "Wypłaty sprawdzamy w ciągu 24 godzin (członkom VIP Gold i Platinum – w ciągu "
                "4 godzin). Po zatwierdzeniu pieniądze przez Trustly i Swish docierają w kilka "
                "minut, na PayPal i Skrill w ciągu 24 godzin, przelewem bankowym w 1–3 dni "
                "robocze, a na kartę w 2–5 dni roboczych.",
            ),
            "sv": _Text(
                title="Uttag: status för det senaste",
                body="Hej {{player.first_name}}, jag har tittat på ditt konto. Ditt uttag på "
                "{{withdrawal.last.amount}} via {{withdrawal.last.method}}, begärt den "
                "{{withdrawal.last.date}}, har status: {{withdrawal.last.status}}.\n\n"
                "Vi granskar uttag inom 24 timmar (VIP Gold och Platinum inom 4 timmar). Efter "
                "godkännandet kommer pengar via Trustly och Swish inom några minuter, via "
                "PayPal och Skrill inom 24 timmar, banköverföringar inom 1–3 bankdagar och "
                "kortutbetalningar inom 2–5 bankdagar.",
            ),
        },
    ),
    _Reply(
        shortcut="compliance-review",
        texts={
            # The approved public wording for a withdrawal held by compliance: nothing more.
            "en": _Text(
                title="Withdrawal: compliance review",
                body="Your withdrawal is being reviewed by our compliance team; we will contact "
                "you if we need anything. Thank you for your patience.",
            ),
            "pl": _Text(
                title="Wypłata: weryfikacja przez dział compliance",
                body="Twoja wypłata jest sprawdzana przez nasz dział compliance; skontaktujemy "
                "się z Tobą, jeśli będziemy czegoś potrzebować. Dziękujemy za cierpliwość.",
            ),
            "sv": _Text(
                title="Uttag: granskas av compliance",
                body="Ditt uttag granskas av vår compliance-avdelning; vi kontaktar dig om vi "
                "behöver något. Tack för ditt tålamod.",
            ),
        },
    ),
    _Reply(
        shortcut="documents-missing",
        texts={
            "en": _Text(
                title="Verification: documents still needed",
                body="To complete the verification of your account, we still need: "
                "{{kyc.missing_documents}}.\n\n"
                "You can upload them under My account → Verification or send them here in the "
                "chat (JPG, PNG or PDF, up to 10 MB each). Please make sure the whole document "
                "is visible with all four corners, sharp and in colour. A proof of address "
                "must be issued within the last 3 months and show your name and address. We "
                "review documents within 24 hours.",
            ),
            "pl": _Text(
                title="Weryfikacja: brakujące dokumenty",
                body="Aby dokończyć weryfikację Twojego konta, potrzebujemy jeszcze: "
                "{{kyc.missing_documents}}.\n\n"
                "Możesz przesłać je w Moje konto → Weryfikacja albo wysłać tutaj na czacie "
                "(JPG, PNG lub PDF, do 10 MB każdy plik). Dokument musi być widoczny w całości, "
                "ze wszystkimi czterema rogami, ostry i w kolorze. Potwierdzenie adresu musi "
                "być wystawione w ciągu ostatnich 3 miesięcy i zawierać Twoje imię, nazwisko "
                "i adres. Dokumenty sprawdzamy w ciągu 24 godzin.",
            ),
            "sv": _Text(
                title="Verifiering: dokument som saknas",
                body="För att slutföra verifieringen av ditt konto behöver vi fortfarande: "
                "{{kyc.missing_documents}}.\n\n"
                "Du kan ladda upp dem under Mitt konto → Verifiering eller skicka dem här i "
                "chatten (JPG, PNG eller PDF, högst 10 MB per fil). Se till att hela dokumentet "
                "syns med alla fyra hörn, skarpt och i färg. Ett adressbevis ska vara utfärdat "
                "under de senaste 3 månaderna och visa ditt namn och din adress. Vi granskar "
                "dokument inom 24 timmar.",
            ),
        },
    ),
    _Reply(
        shortcut="deposit-status",
        texts={
            "en": _Text(
                title="Deposit: status of the latest one",
                body="Your deposit of {{deposit.last.amount}} by {{deposit.last.method}} on "
                "{{deposit.last.date}} has this status: {{deposit.last.status}}.\n\n"
                "Deposits by card, Apple Pay, e-wallet, Trustly, Swish, BLIK and Przelewy24 "
                "usually arrive within minutes; bank transfers take 1–3 business days. If your "
                "bank shows the payment but it is not in your balance, please send us the line "
                "from your bank statement and we will check it with the payment provider. This "
                "is usually settled within 3 business days, and the money is never lost: it is "
                "either credited to your account or released back by your bank.",
            ),
            "pl": _Text(
                title="Wpłata: status ostatniej wpłaty",
                body="Twoja wpłata {{deposit.last.amount}} ({{deposit.last.method}}) z dnia "
                "{{deposit.last.date}} ma status: {{deposit.last.status}}.\n\n"
                "Wpłaty kartą, Apple Pay, portfelem elektronicznym, Trustly, Swish, BLIK "
                "i Przelewy24 zwykle docierają w kilka minut; przelew bankowy trwa 1–3 dni "
                "robocze. Jeśli bank pokazuje płatność, a nie widzisz jej na saldzie, wyślij "
                "nam wiersz z wyciągu bankowego – sprawdzimy sprawę u operatora płatności. "
                "Zwykle wyjaśnia się to w ciągu 3 dni roboczych, a pieniądze nigdy nie "
                "przepadają: albo trafią na Twoje konto, albo bank zwolni blokadę.",
            ),
            "sv": _Text(
                title="Insättning: status för den senaste",
                body="Din insättning på {{deposit.last.amount}} via {{deposit.last.method}} den "
                "{{deposit.last.date}} har status: {{deposit.last.status}}.\n\n"
                "Insättningar med kort, Apple Pay, e-plånbok, Trustly, Swish, BLIK och "
                "Przelewy24 kommer oftast fram inom några minuter; banköverföringar tar 1–3 "
                "bankdagar. Om banken visar betalningen men den inte syns i ditt saldo, skicka "
                "raden från ditt kontoutdrag så utreder vi saken med betalningsleverantören. "
                "Det brukar vara löst inom 3 bankdagar, och pengarna försvinner aldrig: antingen "
                "sätts de in på ditt konto eller så släpper banken reservationen.",
            ),
        },
    ),
    _Reply(
        shortcut="bonus-wagering",
        texts={
            "en": _Text(
                title="Bonus: wagering left",
                body="Your bonus “{{bonus.active.name}}” still has "
                "{{bonus.active.wagering_left}} of wagering left "
                "({{bonus.active.wagering_progress}} done). It expires on "
                "{{bonus.active.expires}}.\n\n"
                "Slots count 100% towards wagering, table games and live casino 10%, and "
                "jackpot slots do not count. Bonus money can be withdrawn once the wagering is "
                "complete. Please note that requesting a withdrawal while the bonus is active "
                "cancels the bonus and its winnings.",
            ),
            "pl": _Text(
                title="Bonus: pozostały obrót",
                body="Do obrotu bonusem „{{bonus.active.name}}” zostało jeszcze "
                "{{bonus.active.wagering_left}} (wykonano już "
                "{{bonus.active.wagering_progress}}). Bonus wygasa {{bonus.active.expires}}.\n\n"
                "Automaty liczą się do obrotu w 100%, gry stołowe i kasyno na żywo w 10%, "
                "a automaty z jackpotem wcale. Środki bonusowe możesz wypłacić po wykonaniu "
                "całego obrotu. Pamiętaj, że zlecenie wypłaty przy aktywnym bonusie anuluje "
                "bonus i wygrane z niego.",
            ),
            "sv": _Text(
                title="Bonus: kvar att omsätta",
                body="Din bonus ”{{bonus.active.name}}” har {{bonus.active.wagering_left}} kvar "
                "att omsätta ({{bonus.active.wagering_progress}} klart). Den löper ut den "
                "{{bonus.active.expires}}.\n\n"
                "Slots räknas till 100 % av omsättningen, bordsspel och livecasino till 10 % "
                "och jackpottslots inte alls. Bonuspengar kan tas ut när omsättningen är klar. "
                "Tänk på att ett uttag medan bonusen är aktiv gör att bonusen och vinsterna "
                "från den förverkas.",
            ),
        },
    ),
    _Reply(
        shortcut="balance",
        texts={
            "en": _Text(
                title="Balance",
                body="Your balance is {{balance.real}} in real money and {{balance.bonus}} in "
                "bonus money. You can withdraw {{balance.withdrawable}} right now.",
            ),
            "pl": _Text(
                title="Saldo",
                body="Na Twoim koncie jest {{balance.real}} prawdziwych środków i "
                "{{balance.bonus}} środków bonusowych. Teraz możesz wypłacić "
                "{{balance.withdrawable}}.",
            ),
            "sv": _Text(
                title="Saldo",
                body="Ditt saldo är {{balance.real}} i riktiga pengar och {{balance.bonus}} i "
                "bonuspengar. Just nu kan du ta ut {{balance.withdrawable}}.",
            ),
        },
    ),
    _Reply(
        shortcut="password-reset-sent",
        texts={
            "en": _Text(
                title="Password reset link sent",
                body="We have sent a password reset link to {{player.email}}. The link is valid "
                "for 30 minutes; if the email does not arrive within a few minutes, please "
                "check your spam folder. For your security, we never ask for your password or "
                "your two-step verification codes.",
            ),
            "pl": _Text(
                title="Wysłany link do zmiany hasła",
                body="Wysłaliśmy link do ustawienia nowego hasła na adres {{player.email}}. "
                "Link jest ważny przez 30 minut; jeśli wiadomość nie dotrze w ciągu kilku "
                "minut, sprawdź folder ze spamem. Dla Twojego bezpieczeństwa nigdy nie prosimy "
                "o hasło ani o kody weryfikacji dwuetapowej.",
            ),
            "sv": _Text(
                title="Länk för nytt lösenord skickad",
                body="Vi har skickat en länk för att välja nytt lösenord till {{player.email}}. "
                "Länken gäller i 30 minuter; om mejlet inte dyker upp inom några minuter, titta "
                "i skräpposten. För din säkerhet ber vi aldrig om ditt lösenord eller dina "
                "koder för tvåstegsverifiering.",
            ),
        },
    ),
    _Reply(
        shortcut="take-a-break",
        texts={
            "en": _Text(
                title="Responsible gambling: take a break",
                body="If you would like a break from playing, you can pause your account for "
                "anything from 24 hours to 6 weeks; the break cannot be shortened once it has "
                "started. For a longer break, you can self-exclude for 6 months, 1 year, 5 "
                "years or indefinitely. Would you like me to set this up for you? I will first "
                "ask you to confirm it in your own words.",
            ),
            "pl": _Text(
                title="Odpowiedzialna gra: przerwa od gry",
                body="Jeśli potrzebujesz odpoczynku, możesz zrobić sobie przerwę od gry na czas "
                "od 24 godzin do 6 tygodni – po jej rozpoczęciu nie da się jej skrócić. Na "
                "dłużej możesz wybrać samowykluczenie: na 6 miesięcy, rok, 5 lat albo "
                "bezterminowo. Czy mam pomóc Ci to ustawić? Najpierw poproszę Cię "
                "o potwierdzenie własnymi słowami.",
            ),
            "sv": _Text(
                title="Ansvarsfullt spelande: ta en paus",
                body="Om du vill ta en paus från spelandet kan du pausa ditt konto i allt från "
                "24 timmar till 6 veckor; pausen kan inte kortas när den väl har börjat. Vill "
                "du ha längre tid kan du stänga av dig i 6 månader, 1 år, 5 år eller tills "
                "vidare. Vill du att jag hjälper dig att ställa in det? Jag ber dig först att "
                "bekräfta det med egna ord.",
            ),
        },
    ),
    _Reply(
        shortcut="waiting-for-player",
        set_status=TicketStatus.PENDING,
        add_tags=("awaiting-player",),
        texts={
            "en": _Text(
                title="Wait for the player's answer",
                body="Thank you! I will wait for your reply: just answer here whenever you are "
                "ready.",
            ),
            "pl": _Text(
                title="Czekamy na odpowiedź gracza",
                body="Dziękuję! Czekam na Twoją odpowiedź – napisz tutaj, gdy tylko będziesz "
                "mieć chwilę.",
            ),
            "sv": _Text(
                title="Vänta på spelarens svar",
                body="Tack! Jag väntar på ditt svar – svara bara här när du är redo.",
            ),
        },
    ),
    _Reply(
        shortcut="close-thanks",
        set_status=TicketStatus.RESOLVED,
        add_tags=("thanked",),
        texts={
            "en": _Text(
                title="Close with thanks",
                body="Thank you for contacting Starvale, {{player.first_name}}. We are glad we "
                "could help! If anything else comes up, we are here for you 24/7 in the chat. "
                "Have a lovely day!",
            ),
            "pl": _Text(
                title="Zakończenie z podziękowaniem",
                body="Dziękujemy za kontakt ze Starvale, {{player.first_name}}. Cieszymy się, "
                "że mogliśmy pomóc! Jeśli pojawią się inne pytania, jesteśmy do Twojej "
                "dyspozycji na czacie przez całą dobę. Miłego dnia!",
            ),
            "sv": _Text(
                title="Avsluta med tack",
                body="Tack för att du kontaktade Starvale, {{player.first_name}}. Vad roligt att "
                "vi kunde hjälpa till! Har du fler frågor finns vi här i chatten dygnet runt. "
                "Ha en fin dag!",
            ),
        },
    ),
    _Reply(
        shortcut="escalate-payments",
        to_payments=True,
        add_tags=("payments-escalated",),
        texts={
            "en": _Text(
                title="Pass to the Payments team",
                body="I have passed your case #{{ticket.number}} to our payments team, who will "
                "look into it in detail. They will reply to you right here as soon as they can.",
            ),
            "pl": _Text(
                title="Przekazanie do zespołu płatności",
                body="Przekazujemy Twoją sprawę nr {{ticket.number}} naszemu zespołowi "
                "płatności, który dokładnie ją sprawdzi. Odpowiedź otrzymasz tutaj najszybciej, "
                "jak to możliwe.",
            ),
            "sv": _Text(
                title="Skicka vidare till betalningsteamet",
                body="Jag har skickat ditt ärende #{{ticket.number}} vidare till vårt "
                "betalningsteam, som tittar närmare på det. De svarar dig här så snart de kan.",
            ),
        },
    ),
)


async def seed_canned_replies(runtime: Runtime, *, payments_team_id: int) -> int:
    """Create the replies not there yet; returns how many were created."""
    system = Actor.system()
    players = runtime.policies.players
    languages = canned_service.CannedLanguages(
        supported=players.languages, default=players.default_language
    )
    async with runtime.read_uow() as uow:
        existing = {
            (row.shortcut, row.language)
            for row in await canned_service.list_canned_replies(
                uow,
                actor=system,
                query=canned_service.CannedQuery(limit=canned_service.MAX_LIST),
                default_language=players.default_language,
            )
        }
    created = 0
    for reply in REPLIES:
        for language, text in reply.texts.items():
            if language not in languages.supported or (reply.shortcut, language) in existing:
                continue
            async with runtime.uow() as uow:
                await canned_service.create_canned_reply(
                    uow,
                    actor=system,
                    reply=canned_service.CannedReplyInput(
                        shortcut=reply.shortcut,
                        language=language,
                        title=text.title,
                        body=text.body,
                        set_status=reply.set_status,
                        add_tags=list(reply.add_tags),
                        move_to_team_id=payments_team_id if reply.to_payments else None,
                    ),
                    languages=languages,
                )
            created += 1
    return created
