"""What is declared: settings, the catalog and its specs, and checks of them."""
