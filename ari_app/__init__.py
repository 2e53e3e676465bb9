"""The running service and nothing else: composition root (`service`), settings, logging, CLI;
the ARI and AMI adapters, the call engine (`calls/`), media, the web assembly, the database."""
