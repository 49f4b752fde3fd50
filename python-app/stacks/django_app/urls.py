"""The contract's paths, each to one view; handler404/handler500 keep errors in the contract's
JSON shape."""

from django.urls import path

from . import views

urlpatterns = [
    path("health", views.health),
    path("json", views.json_hello),
    path("plaintext", views.plaintext),
    path("io/sleep", views.io_sleep),
    path("io/upstream", views.io_upstream),
    path("cpu/fib", views.cpu_fib),
    path("cpu/json", views.cpu_json),
    path("cpu/hash", views.cpu_hash),
    path("cpu/matmul", views.cpu_matmul),
]

handler404 = views.not_found
handler500 = views.server_error
