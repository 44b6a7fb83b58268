"""Plain-English answers: `why` for a charger, `site` for a site."""
