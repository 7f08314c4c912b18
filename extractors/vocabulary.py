"""Word lists of the spaCy extractor, one per concept (lemmas, lower case).

Each list says what the words have in common; the modules that use them say why.
"""

from __future__ import annotations

# Nouns for money itself: "use the money to ...", "the capital comes back to X".
MONEY_WORDS = frozenset({"money", "capital", "funds", "proceeds", "cash", "credits", "check", "cheque"})
# Words that can stand for a deal's money as the object of "use" (money words, pronouns, deal nouns).
FUNDS_REFERENCES = MONEY_WORDS | {"fund", "funding", "investment", "it", "which", "that", "dollars", "financing"}
# Shares and stakes: buying them is an investment, selling them a stake sale.
SHARES = frozenset({"stock", "share", "shares", "stake", "equity", "holding", "holdings", "position"})
# Nouns for a sales contract ("landed a contract from X": a sale, not funding).
CONTRACT_NOUNS = frozenset({"contract", "order", "deal", "agreement", "commitment", "business"})
# Nouns for a round of funding.
ROUND_NOUNS = frozenset({"round", "financing", "funding", "raise", "investment", "offering", "series"})
# Words of lending.
LOAN_WORDS = frozenset({"loan", "borrowing", "credit", "lend", "lender", "borrow", "financing", "debt"})
# "an AI cloud contract", "a hosting agreement": a service that a cloud or host sells.
SERVICE_WORDS = frozenset({"cloud", "hosting", "colocation", "compute", "capacity", "lease", "leasing", "service",
                           "services"})
# Heads of a hardware noun phrase: "Kestrel K2 accelerators", "Trainium chips".
HARDWARE_NOUNS = frozenset({"accelerator", "chip", "chips", "gpu", "processor", "system", "platform", "superchip",
                            "cpu", "tpu", "server", "chiplet", "card", "rack", "module", "instance"})
# Words after a capitalised name that make the name a product line, not a company: the hardware
# nouns, and "model" ("Zentrix Lattice model").
PRODUCT_LINE_WORDS = HARDWARE_NOUNS | {"model"}
# Things a company sells: a possessive on them names the vendor ("Microsoft's Azure cloud services").
GOODS_HEADS = HARDWARE_NOUNS | {"capacity", "service", "compute", "cloud", "computing", "time", "credit",
                                "infrastructure", "stock", "share", "equity", "product", "software", "power",
                                "cluster", "hardware", "stake", "offering", "model", "api"}
# Places goods go: "supply chips for OpenAI's data centers" names the buyer by its facilities.
FACILITY_NOUNS = frozenset({"center", "centre", "facility", "campus", "site", "cluster", "datacenter"})
# What a company calls a company it owns: "X, a unit of Y", "Y's venture arm X", "M12, Microsoft's venture fund".
SUBSIDIARY_NOUNS = frozenset({"subsidiary", "unit", "arm", "division", "affiliate", "vehicle", "spv", "offshoot", "fund"})
# Words for people: "Nvidia chief Jensen Huang", "its chairman, who can reinvest".
PERSON_TITLES = frozenset({"chief", "ceo", "cfo", "coo", "cto", "founder", "co-founder", "president", "chairman",
                           "chairwoman", "chair", "executive", "director", "analyst", "spokesperson", "spokesman",
                           "spokeswoman", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "dr", "dr.", "minister",
                           "secretary", "senator", "boss", "head", "governor", "mayor", "lawmaker", "premier"})
# What a deal's own investor is called by the company it funds ("rent clusters from its investor").
INVESTOR_NOUNS = frozenset({"investor", "backer", "shareholder", "funder"})
# What a news outlet does with a deal: "Bloomberg reported", "first reported by X", "a Bloomberg report".
REPORTING_WORDS = frozenset({"report", "quote"})
# What a company is called when it is sold whole: "its Aligned Data Centres business".
BUSINESS_NOUNS = frozenset({"business", "unit", "division", "subsidiary", "company", "operation", "operations", "arm"})
