"""Scripts that measure collabbot and print numbers; see benchmarks/README.md."""
