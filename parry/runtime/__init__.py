"""What the deployed functions do, for the Lambda and any front end: the runner (`runner`), the
approval sweep (`maintenance`), the one run-request format (`requests`), runs in this process
(`in_process`) and the on-call's decisions (`control`)."""
