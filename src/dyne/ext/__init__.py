"""Optional extensions. Each is imported only when you import it, and names the
``pip install "dyne[extra]"`` it needs when its dependencies are missing."""
