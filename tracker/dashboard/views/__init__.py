"""The dashboard's pages: Streamlit scripts, run by ``app.py``'s navigation or on their own (never imported)."""
