def greeting():
    return "hello from the strategy folder"
