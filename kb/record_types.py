"""The kinds of record that have a page of their own, named two ways: by type ("study"), as
IDs, links and the command line name them, and by the plural ("studies") under which the
export document lists them and the site keeps their pages."""

PLURALS = {
    "source": "sources",
    "theme": "themes",
    "recommendation": "recommendations",
    "study": "studies",
    "example": "examples",
    "figure": "figures",
}
TYPES = {plural: record_type for record_type, plural in PLURALS.items()}
