"""WeChat Mini Shop (微信小商店, ``/product/*``): connector and sandbox."""
