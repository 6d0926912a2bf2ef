"""The dashboard's pages, one module per area; each route calls the library and renders."""
