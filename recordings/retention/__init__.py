"""Recording retention: how long each queue's recordings are kept, legal holds, and deletion
that takes the file, the rows and their dependants together and audits it."""
