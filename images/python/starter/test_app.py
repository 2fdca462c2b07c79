from app import greeting


def test_greeting_names_the_person():
    assert greeting("Ada").startswith("Hello, Ada, from Python 3.")
