"""Data-subject rights: export what we hold about a person, erase it or say why not and until when,
retention per jurisdiction, and consent records."""
