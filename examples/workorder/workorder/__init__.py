"""workorder: take, run and roll back work orders (an example project for errwise audit)."""
