from flask import Blueprint

bp = Blueprint("stock_window", __name__, url_prefix="/window")
