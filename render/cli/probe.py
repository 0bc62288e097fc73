"""``moodgrade probe IN``: stream information as a table or JSON."""
