"""Youzan (有赞云): order sync and pushes, with a faithful local sandbox."""
