"""Standard components (ExampleGen, StatisticsGen, Trainer, ...) land here."""
