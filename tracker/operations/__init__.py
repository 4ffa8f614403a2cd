"""Operations: the scheduler, distributed workers, `up`, and the offline demo."""

__all__: list[str] = []
