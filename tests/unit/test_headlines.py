"""Title Case headlines in sentence case: ordinary words lowered, names and offsets kept."""

from __future__ import annotations

from extractors.headlines import sentence_case_headlines, truecase_lower_case_text


def test_ordinary_words_of_a_headline_are_lowered_and_names_kept() -> None:
    text = "Microsoft Invests $10 Billion In OpenAI\nThe deal was signed on Monday."
    assert sentence_case_headlines(text).split("\n")[0] == "Microsoft invests $10 billion in OpenAI"


def test_registry_names_and_unknown_words_stay_capitalised() -> None:
    headline = "Meta Signs Cloud Deal With Google Cloud And Advanced Micro Devices"
    assert sentence_case_headlines(headline) == "Meta signs cloud deal with Google Cloud and Advanced Micro Devices"
    # "Kestrel" and "Dynamics" are no ordinary words the module knows: an unknown company keeps its name.
    assert sentence_case_headlines("Kestrel Dynamics Raises $50 Million") == "Kestrel Dynamics raises $50 million"


def test_a_word_written_capitalised_mid_sentence_in_the_body_is_a_name() -> None:
    text = "Helix Backs Round For Pilot\nThe fund said Pilot will hire 40 engineers."
    assert sentence_case_headlines(text).split("\n")[0] == "Helix backs round for Pilot"


def test_prose_and_offsets_are_unchanged() -> None:
    text = "Helix Capital Invests $2 Billion In Tamsin Labs\nHelix Capital said it Invests in many Labs."
    prepared = sentence_case_headlines(text)
    assert len(prepared) == len(text)
    assert prepared.split("\n")[1] == text.split("\n")[1]
    assert sentence_case_headlines("A sentence of prose, In Title Case, ending in a period.") == (
        "A sentence of prose, In Title Case, ending in a period.")


def test_an_all_caps_headline_is_put_in_sentence_case() -> None:
    text = "HALBERD COMPUTE TO INVEST $5 BILLION IN NIMBUS RIDGE LABS\nThe deal was signed on Monday."
    prepared = sentence_case_headlines(text)
    assert prepared.split("\n")[0] == "Halberd Compute to invest $5 billion in Nimbus Ridge Labs"
    assert len(prepared) == len(text)
    # Registry names as the registry writes them; two-letter names keep their capitals.
    assert sentence_case_headlines("QUORRA AI RAISES $400 MILLION FROM OPENAI") == "Quorra AI raises $400 million from OpenAI"


def test_an_all_caps_line_without_a_deal_word_is_kept() -> None:
    cover = "BRANNOCK HOLDINGS, INC.\nQUARTERLY REPORT ON FORM 10-Q (EXCERPT)"
    assert sentence_case_headlines(cover) == cover


def test_a_lower_case_text_gets_the_capitals_the_parser_needs() -> None:
    text = ("amazon said on monday it will invest $4 billion in anthropic, the ai startup. " * 4).strip()
    prepared = truecase_lower_case_text(text)
    assert prepared.startswith("Amazon said on Monday it will invest $4 billion in Anthropic, the AI startup. Amazon")
    assert len(prepared) == len(text)
    written = "Amazon said it will invest $4 billion in Anthropic. " * 8
    assert truecase_lower_case_text(written) == written  # a text with its capitals is left as it is
