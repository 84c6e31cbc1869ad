"""The simulated device fleet: CPL/FIR copy, device state, firmware behaviour, edits."""
