"""Personal data of petitioners: formats (GB 11643, phone numbers) and masking (DOMAIN.md §10,
个人信息保护法 Arts. 28, 51). Pure: no I/O, no cryptography (that is `privacy/`)."""
