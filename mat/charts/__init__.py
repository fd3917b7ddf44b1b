"""The prescriber's screens: find a patient, read the chart, preview and sign orders."""
