"""What the plot screen draws, without Textual: throughput series from the rate meters
(`throughput`), values read from payloads (`values`) and their CSV export (`export`)."""
