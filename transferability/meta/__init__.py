"""Meta-features and the MetaTrans / EasyTransferability learners (arrive with later issues)."""
