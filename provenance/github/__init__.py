"""The GitHub edge: step outputs, workflow commands and the job summary. Nothing here decides."""
