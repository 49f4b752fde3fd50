"""The Django stack: a settings module, one URLconf and sync views, served over WSGI by gunicorn
(threaded sync workers), the deployment Django's documentation leads with ("How to use Django
with Gunicorn"). See views.py for what the stack owns."""
