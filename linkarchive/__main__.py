from linkarchive.cli import app

app()
