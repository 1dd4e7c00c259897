"""Scale-out: generators for CI engines (GitHub Actions, Kubernetes) around the job unit."""
