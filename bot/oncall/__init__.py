"""On-call: schedules, who is on call now and next, calendars."""
