"""The backend's logic: what a Django view or a Celery task would call."""


def health() -> dict:
    return {"status": "ok"}


def split_invoice(total_cents: int, parts: int) -> list[int]:
    """Split an amount into parts that differ by at most one cent and add up to it."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base, rest = divmod(total_cents, parts)
    return [base + 1 if i < rest else base for i in range(parts)]
