"""The simulated DCC DSP: request checks, a discrete-event engine, responses and alerts."""
