"""Who is acting: people, their body and roles (DOMAIN.md §10), however they signed in."""
